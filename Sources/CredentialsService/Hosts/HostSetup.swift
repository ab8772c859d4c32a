import JSONRPC

/// The facet in front of a service, as the executable serves it.
extension Service {
    /// What an MCP host passes its model on `initialize`: written for a model to act on, it says
    /// what the server keeps, what needs the user's say, and why no password is ever asked for.
    public static let mcpInstructions = """
        credentials-rpc keeps an organization's integration users (admins and support staff, with \
        their permissions), the workforce credentials of each user (certificates, licences and \
        the like: every version with its dates, document number, approval and scanned media), \
        credential types, teams with the types they require, compliance reports, expiry \
        reminders, API tokens and an audit log. Tools act as the signed-in user, with that \
        user's permissions; a refusal is an isError result naming its reason.
        Deleting needs care: credentials_delete without confirm: true changes nothing and answers \
        a preview of what would go. Show that preview to the user and call again with \
        confirm: true only after they agree. Other destructive tools (credentials_deleteMedia, \
        users_deactivate, tokens_revoke, teams_removeMember) take effect at once: ask first.
        The server signs in with the API token in its CREDENTIALS_RPC_TOKEN environment variable. \
        No password ever passes through this server's tools: never ask the user for one. If \
        tools answer unauthenticated, the token is missing, expired or revoked: tell the user \
        to set a fresh one in the host's configuration.
        Lists are paged: pass nextCursor as cursor for the next page. Dates are YYYY-MM-DD.
        """

    /// The service behind the MCP/LSP facet, offering the tools `selection` names.
    public func hostFacet(tools selection: ToolSelection = .all) -> HostFacet {
        HostFacet(inner: self, catalog: ServiceTools(service: self, selection: selection),
                  name: ServiceInfo.name, version: ServiceInfo.version, instructions: Service.mcpInstructions)
    }
}
