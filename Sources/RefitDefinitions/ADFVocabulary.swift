import RefitCore

/// The ADF type names Refit knows, split into those it runs and those it recognises but cannot
/// use, so an ADF user's file of another type gets "Refit cannot …" rather than "unknown type".
enum ADFVocabulary {
    static let linkedServiceTypes = ["AzureML", "AzureStorage", "AzureStorageSas", "AwsAccessKey", "OnPremisesFileServer"]
    static let datasetTypes = ["AzureBlob", "AmazonS3", "FileShare"]
    static let activityTypes = ["AzureMLBatchExecution", "AzureMLUpdateResource", "Command"]

    /// ADF v1 linked service types Refit does not connect to.
    static let otherLinkedServiceTypes = [
        "AzureSqlDatabase", "AzureSqlDW", "AzureDataLakeStore", "AzureDataLakeAnalytics", "AzureBatch",
        "HDInsight", "HDInsightOnDemand", "OnPremisesSqlServer", "OnPremisesOracle", "OnPremisesMySql",
        "OnPremisesDB2", "OnPremisesTeradata", "OnPremisesSybase", "OnPremisesPostgreSql", "OnPremisesOdbc",
        "OnPremisesCassandra", "OnPremisesMongoDb", "OnPremisesHdfs", "DocumentDb", "AzureSearch",
        "FtpServer", "Sftp", "Salesforce", "AmazonRedshift", "OData", "Web", "Http", "Hdfs",
    ]
    /// ADF v1 dataset types Refit cannot probe.
    static let otherDatasetTypes = [
        "AzureSqlTable", "AzureSqlDataWarehouseTable", "AzureTable", "AzureDataLakeStore", "AzureSearchIndex",
        "DocumentDbCollection", "CassandraTable", "MongoDbCollection", "OracleTable", "RelationalTable",
        "SqlServerTable", "Http", "WebTable", "ODataResource",
    ]
    /// ADF v1/v2 activity types Refit does not run.
    static let otherActivityTypes = [
        "Copy", "HDInsightHive", "HDInsightPig", "HDInsightMapReduce", "HDInsightStreaming", "HDInsightSpark",
        "SqlServerStoredProcedure", "DotNetActivity", "DataLakeAnalyticsU-SQL", "AzureMLScoring",
        "ExecutePipeline", "Lookup", "WebActivity", "GetMetadata", "ForEach", "IfCondition", "Until", "Wait",
        "HttpJob", "MLflowUpdateModel",
    ]
    /// ADF v2 trigger types: recognised, not used (the output datasets drive the schedule).
    static let triggerTypes = ["TumblingWindowTrigger", "ScheduleTrigger", "BlobEventsTrigger", "CustomEventsTrigger"]

    /// Characters ADF forbids in entity names (docs/SEMANTICS.md §3.1).
    static let forbiddenNameCharacters: Set<Character> = [".", "+", "?", "/", "<", ">", "*", "%", "&", ":", "\\"]
    static let maximumNameLength = 260
}

/// "Did you mean …?" suggestions for misspelt names and enum values.
enum Suggestion {
    /// The candidate closest to `word`: an exact case-insensitive match first, then the smallest
    /// edit distance within a tolerance that grows with the word's length.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lower = word.lowercased()
        if let exact = candidates.first(where: { $0.lowercased() == lower }) { return exact }
        let tolerance = max(2, lower.count / 3)
        var best: (String, Int)?
        for candidate in candidates {
            // Lengths further apart than the tolerance cannot be within it; skipping them keeps a
            // megabyte-long value from costing a quadratic edit distance.
            if abs(lower.count - candidate.count) > tolerance { continue }
            let d = distance(lower, candidate.lowercased())
            if d <= tolerance, best.map({ d < $0.1 }) ?? true { best = (candidate, d) }
        }
        return best?.0
    }

    /// The known key an unknown one most likely meant: `closest(to:among:)`, or else one that
    /// shares all but its last letter as a prefix (`retries` → `retry`, beyond the edit
    /// distance a short word tolerates).
    static func closestKey(to word: String, among candidates: [String]) -> String? {
        if let near = closest(to: word, among: candidates) { return near }
        let lower = Array(word.lowercased())
        return candidates.first { candidate in
            let other = Array(candidate.lowercased())
            let shorter = min(lower.count, other.count)
            var common = 0
            while common < shorter && lower[common] == other[common] { common += 1 }
            return common >= 4 && common >= shorter - 1
        }
    }

    /// " (did you mean X?)" or "".
    static func hint(for word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { "; did you mean \($0)?" } ?? ""
    }

    /// Levenshtein distance over Unicode scalars.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }
}

/// The keys each definition object may hold: those Refit reads, and those ADF defines but Refit
/// has no use for (descriptions, formats, structure, gateway names). Any other key is a warning
/// with a did-you-mean hint, so a typo (`retries` for `retry`) does not silently fall back to a
/// default, while ADF users' files load without noise.
enum ADFKeys {
    static let envelope = ["name", "properties"]
    static let envelopeIgnored = ["$schema", "type", "apiVersion", "id", "etag"]

    static let linkedService = ["type", "typeProperties"]
    static let linkedServiceIgnored = ["description", "connectVia", "annotations", "parameters", "hubName"]
    static let linkedServiceTypeProperties: [String: [String]] = [
        "AzureML": ["mlEndpoint", "apiKey", "updateResourceEndpoint", "servicePrincipalId", "servicePrincipalKey", "tenant"],
        "AzureStorage": ["connectionString", "sasUri"],
        "AzureStorageSas": ["connectionString", "sasUri"],
        "AwsAccessKey": ["accessKeyId", "secretAccessKey", "serviceUrl", "region"],
        "OnPremisesFileServer": ["host", "userId", "password"],
    ]
    static let linkedServiceTypePropertiesIgnored = ["encryptedCredential", "gatewayName", "authenticationType"]

    static let dataset = ["type", "linkedServiceName", "typeProperties", "availability", "external", "policy"]
    static let datasetIgnored = ["description", "structure", "published", "schema", "annotations", "parameters", "folder",
                                 "createdDate", "hubName", "provisioningState"]
    static let datasetTypeProperties: [String: [String]] = [
        "AzureBlob": ["folderPath", "fileName", "partitionedBy", "readyMarker"],
        "FileShare": ["folderPath", "fileName", "partitionedBy", "readyMarker"],
        "AmazonS3": ["bucketName", "key", "prefix", "folderPath", "fileName", "partitionedBy", "readyMarker"],
    ]
    static let datasetTypePropertiesIgnored = ["format", "compression", "fileFilter", "useBinaryTransfer", "version"]
    static let partition = ["name", "value"]
    static let partitionValue = ["type", "date", "format"]
    static let availability = ["frequency", "interval", "style", "anchorDateTime", "offset", "waitOnExternal"]
    static let datasetPolicy = ["externalData", "validation"]
    static let externalData = ["dataDelay", "retryInterval", "retryTimeout", "maximumRetry"]
    static let validation = ["minimumSizeMB", "minimumRows"]

    static let pipeline = ["activities", "start", "end", "isPaused", "pipelineMode", "expirationTime"]
    static let pipelineIgnored = ["description", "hubName", "runtimeInfo", "annotations", "parameters", "datasets",
                                  "provisioningState", "folder"]
    static let activity = ["name", "type", "linkedServiceName", "inputs", "outputs", "typeProperties", "scheduler", "policy",
                           "dependsOn"]
    static let activityIgnored = ["description", "userProperties"]
    static let activityPolicy = ["concurrency", "executionPriorityOrder", "retry", "timeout", "delay", "longRetry",
                                 "longRetryInterval"]
    static let activityPolicyIgnored = ["style", "secureInput", "secureOutput", "retryIntervalInSeconds"]
    static let datasetEntry = ["name", "startTime", "endTime", "referenceName", "type", "parameters"]
    static let activityTypeProperties: [String: [String]] = [
        "AzureMLBatchExecution": ["webServiceInput", "webServiceInputs", "webServiceOutputs", "globalParameters",
                                  "stagingLinkedService"],
        "AzureMLUpdateResource": ["trainedModelName", "trainedModelDatasetName", "trainedModelLinkedServiceName",
                                  "trainedModelFilePath"],
        "Command": ["arguments", "workingDirectory", "environment"],
    ]
}
