public import LibPQ
public import OrderlyCore

// Core's enums as the columns store them: their raw values are what each column's CHECK allows
// (SchemaTests compares the two sets).
extension OrderStatus: PostgresTextEnum {}
extension HoldReason: PostgresTextEnum {}
extension ShipmentStatus: PostgresTextEnum {}
extension PickListStatus: PostgresTextEnum {}
extension NotificationStatus: PostgresTextEnum {}
extension NotificationKind: PostgresTextEnum {}
extension JobState: PostgresTextEnum {}
extension PickMethod: PostgresTextEnum {}
extension SalesChannel: PostgresTextEnum {}
extension PaymentStatus: PostgresTextEnum {}
extension ClaimKind: PostgresTextEnum {}
extension ClaimStatus: PostgresTextEnum {}
extension ClaimResolution: PostgresTextEnum {}
extension ReturnReason: PostgresTextEnum {}
extension ReturnStatus: PostgresTextEnum {}
extension ReturnCondition: PostgresTextEnum {}
