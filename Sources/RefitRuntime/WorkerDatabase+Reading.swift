import RefitPostgres
import RefitStore

extension WorkerDatabase {
    /// What `refit status` reads.
    public var status: any StatusReading {
        switch self {
        case .sqlite(let store): StatusRepository(store)
        case .postgres(let store): PostgresStatusReader(store)
        }
    }

    /// What `refit history` and `refit show` read.
    public var runHistory: any RunHistoryReading {
        switch self {
        case .sqlite(let store): RunRepository(store)
        case .postgres(let store): PostgresRunHistory(store)
        }
    }

    /// What `refit slices` reads.
    public var slices: any SliceReading {
        switch self {
        case .sqlite(let store): SQLiteSliceReader(store)
        case .postgres(let store): PostgresSliceReader(store)
        }
    }

    /// What `refit lineage` reads.
    public var lineage: any LineageReading {
        switch self {
        case .sqlite(let store): LineageRepository(store)
        case .postgres(let store): PostgresLineageReader(store)
        }
    }

    /// What `refit audit` reads.
    public var auditLog: any AuditReading {
        switch self {
        case .sqlite(let store): AuditRepository(store)
        case .postgres(let store): PostgresAuditLog(store)
        }
    }

    /// What `refit report` reads.
    public var report: any ReportReading {
        switch self {
        case .sqlite(let store): ReportRepository(store)
        case .postgres(let store): PostgresReportReader(store)
        }
    }

    /// What the database families of the metrics exposition read (`refit metrics`, and the
    /// `/metrics` scrapes of `refit run --metrics-address`).
    public var metrics: any MetricsReading {
        switch self {
        case .sqlite(let store): MetricsRepository(store)
        case .postgres(let store): PostgresMetricsReader(store)
        }
    }
}

extension WorkerDatabase {
    /// How a message names the database: the SQLite path as given, or the PostgreSQL URL
    /// without its password.
    public func displayName(path: String) -> String {
        switch self {
        case .sqlite: path
        case .postgres(let store): store.database.displayName
        }
    }
}
