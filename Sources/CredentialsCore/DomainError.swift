/// One field that broke a domain rule, such as `temporaryPassword` failing the password policy.
public struct FieldIssue: Equatable, Sendable {
    public var field: String
    public var message: String
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}

/// Every way a domain rule says no. The service maps each case to one wire error code; the
/// `reason` strings are the `error.data.reason` values of Protocol/README.md §4.
public enum DomainError: Error, Equatable, Sendable {
    /// `-32602`: `invalid_params`, `password_policy`, `invalid_date`, `unsupported_media`, `media_too_large`.
    case invalid(reason: String, fields: [FieldIssue])
    /// `-32001`: `unauthenticated`, `invalid_credentials`, `locked_out`, `account_deactivated`.
    case unauthenticated(reason: String, message: String)
    /// `-32002`: signed in but not allowed.
    case forbidden(String)
    /// `-32003`: no such object, or not visible to the caller.
    case notFound(String)
    /// `-32004`: conflicts with the current state (`email_taken`, `last_admin`, ...).
    case conflict(reason: String, message: String)
    /// `-32005`: a destructive call without `confirm: true`; `preview` says what would go.
    case confirmationRequired(message: String, preview: [String: Int])
    /// `-32006`: the temporary password must be changed first.
    case passwordChangeRequired

    public static func invalidField(_ field: String, _ message: String, reason: String = "invalid_params") -> DomainError {
        .invalid(reason: reason, fields: [FieldIssue(field, message)])
    }
}
