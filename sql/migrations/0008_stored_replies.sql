-- Stored idempotent replies become a versioned Codable value (the admin server's StoredReply, v 2):
-- {"v":2,"ok":true,"shape":"fields"|"rows","rows":[[{"k":name,"t"|"i"|"b":value},...],...]} or
-- {"v":2,"ok":false,"code":...,"message":...}. Earlier servers stored the reply's JSON wire form, whose
-- field order only the text kept; this rewrites those rows, keeping the order (json, unlike jsonb,
-- keeps it) and each value's type.

-- One reply object's fields, in order, as v2 fields.
CREATE FUNCTION orderly_stored_fields_v2(fields json) RETURNS json LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(
        json_agg(
            (jsonb_build_object('k', f.key) || CASE json_typeof(f.value)
                WHEN 'string' THEN jsonb_build_object('t', f.value #>> '{}')
                WHEN 'number' THEN jsonb_build_object('i', (f.value #>> '{}')::bigint)
                WHEN 'boolean' THEN jsonb_build_object('b', (f.value #>> '{}')::boolean)
                ELSE '{}'::jsonb END)::json
            ORDER BY f.n),
        '[]'::json)
    FROM json_each(fields) WITH ORDINALITY AS f(key, value, n)
$$;

-- A reply in the wire form (`{"ok":true,"fields":{...}}`, `{"ok":true,"rows":[...]}`,
-- `{"ok":false,"code":...,"message":...}`) as a v2 stored reply.
CREATE FUNCTION orderly_stored_reply_v2(wire text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN (w ->> 'ok')::boolean IS NOT TRUE THEN
            json_build_object('v', 2, 'ok', false, 'code', w ->> 'code', 'message', w ->> 'message')::text
        WHEN w -> 'rows' IS NOT NULL THEN
            json_build_object('v', 2, 'ok', true, 'shape', 'rows', 'rows', (
                SELECT coalesce(json_agg(orderly_stored_fields_v2(r.value) ORDER BY r.n), '[]'::json)
                FROM json_array_elements(w -> 'rows') WITH ORDINALITY AS r(value, n)))::text
        ELSE
            json_build_object('v', 2, 'ok', true, 'shape', 'fields',
                              'rows', json_build_array(orderly_stored_fields_v2(w -> 'fields')))::text
        END
    FROM (SELECT wire::json AS w) AS parsed
$$;

UPDATE admin_idempotency SET reply = orderly_stored_reply_v2(reply)
WHERE reply IS NOT NULL AND (reply::json ->> 'v') IS NULL;
