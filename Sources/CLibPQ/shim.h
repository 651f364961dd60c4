#ifndef ORDERLY_CLIBPQ_SHIM_H
#define ORDERLY_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>
#endif
