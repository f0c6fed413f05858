import Actions
import Analytics
import Charts
import Directory
import IdentityManagement

/// What a tenant file configures. The importer is a client of every service, so it lives apart from all of them and
/// from the server that composes them.
public struct TenantServices: Sendable {
    public let tenant: Tenant
    public let actions: ActionStore
    public let analytics: Analytics
    public let charts: ChartStore
    public let directory: Directory

    public init(tenant: Tenant, actions: ActionStore, analytics: Analytics, charts: ChartStore, directory: Directory) {
        self.tenant = tenant
        self.actions = actions
        self.analytics = analytics
        self.charts = charts
        self.directory = directory
    }
}
