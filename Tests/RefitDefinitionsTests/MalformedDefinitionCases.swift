// Generated from marked texts: each case's ‸ marks where the error must be reported; the test
// checks that the marker sits at the literal line/column and that the loader reports exactly there.
import RefitCore

extension MalformedDefinitionTests {
    /// A valid folder: two linked services, three datasets, a retrain → update resource pipeline.
    static let baseFiles: [String: String] = [
        "storage.json": #"""
        {"name": "Storage", "properties": {"type": "AzureStorage",
         "typeProperties": {"connectionString": {"env": "STORAGE_CS"}}}}
        """#,
        "ml.json": #"""
        {"name": "ML", "properties": {"type": "AzureML", "typeProperties": {
         "mlEndpoint": "https://ml.example/jobs", "apiKey": {"env": "ML_KEY"},
         "updateResourceEndpoint": "https://ml.example/update"}}}
        """#,
        "input.json": #"""
        {"name": "Input", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
         "typeProperties": {"folderPath": "data/{Day}", "fileName": "in.csv",
          "partitionedBy": [{"name": "Day", "value": {"type": "DateTime", "date": "SliceStart", "format": "yyyyMMdd"}}]},
         "external": true,
         "availability": {"frequency": "Day", "interval": 1}}}
        """#,
        "model.json": #"""
        {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
         "typeProperties": {"folderPath": "models", "fileName": "model.ilearner"},
         "availability": {"frequency": "Day", "interval": 1}}}
        """#,
        "placeholder.json": #"""
        {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
         "typeProperties": {"folderPath": "placeholder"},
         "availability": {"frequency": "Day", "interval": 1}}}
        """#,
        "pipeline.json": #"""
        {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
         {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
          "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
          "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
         {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
          "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
          "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
        """#,
    ]

    static let cases: [MalformedCase] = [
        MalformedCase(
            "JSON: missing comma between members",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage"
             ‸"typeProperties": {"folderPath": "models", "fileName": "model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 2, column: 2,
            message: #"missing ','"#),
        MalformedCase(
            "JSON: trailing comma in an array",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}‸,],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 6, column: 69,
            message: #"trailing comma before ']'"#),
        MalformedCase(
            "JSON: unterminated string",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": ‸"Storage,
             "typeProperties": {"folderPath": "models", "fileName": "model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 1, column: 76,
            message: #"unterminated string"#),
        MalformedCase(
            "JSON: invalid escape",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "mo‸\qdels", "fileName": "model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 2, column: 38,
            message: #"invalid escape '\q'"#),
        MalformedCase(
            "JSON: duplicate key reported at the second key",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "models", "fileName": "model.ilearner", ‸"fileName": "other"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 2, column: 75,
            message: #"duplicate key "fileName" (first at line 2"#),
        MalformedCase(
            "JSON: a top-level array is not one entity",
            files: [
            "extra.json": #"""
            ‸[{"name": "A", "properties": {}}, {"name": "B", "properties": {}}]
            """#,
            ],
            file: "extra.json", line: 1, column: 1,
            message: #"put each entity in a file of its own"#),
        MalformedCase(
            "JSON: a top-level string",
            files: [
            "extra.json": #"""
              ‸"just a string"
            """#,
            ],
            file: "extra.json", line: 1, column: 3,
            message: #"not a string"#),
        MalformedCase(
            "JSON: bare word instead of a value",
            files: [
            "placeholder.json": #"""
            {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "placeholder"},
             "availability": {"frequency": "Day", "interval": ‸one}}}
            """#,
            ],
            file: "placeholder.json", line: 3, column: 51,
            message: #"unexpected unquoted text"#),
        MalformedCase(
            "YAML: a mapping value where none is allowed",
            files: [
            "extra.yaml": #"""
            name: Extra
            properties:
              type: AzureBlob
              linkedServiceName: Storage‸: Other

            """#,
            ],
            file: "extra.yaml", line: 4, column: 29,
            message: #"YAML syntax error"#),
        MalformedCase(
            "YAML: unclosed flow sequence",
            files: [
            "extra.yaml": #"""
            name: Extra
            properties:
              activities: [a, b
            ‸
            """#,
            ],
            file: "extra.yaml", line: 4, column: 1,
            message: #"YAML syntax error"#),
        MalformedCase(
            "YAML: duplicate key reported at the second key",
            files: [
            "extra.yaml": #"""
            name: Extra
            properties:
              type: AzureBlob
              ‸type: FileShare

            """#,
            ],
            file: "extra.yaml", line: 4, column: 3,
            message: #"duplicate key "type" (first at line 3, column 3)"#),
        MalformedCase(
            "YAML: two documents in one file",
            files: [
            "extra.yaml": #"""
            name: A
            properties: {type: AzureBlob}
            ‸---
            name: B

            """#,
            ],
            file: "extra.yaml", line: 3, column: 1,
            message: #"second YAML document"#),
        MalformedCase(
            "unknown linked service type, with a hint",
            files: [
            "storage.json": #"""
            {"name": "Storage", "properties": {"type": ‸"AzureStorge",
             "typeProperties": {"connectionString": {"env": "STORAGE_CS"}}}}
            """#,
            ],
            file: "storage.json", line: 1, column: 44,
            message: #"did you mean AzureStorage?"#),
        MalformedCase(
            "unknown frequency value, with a hint",
            files: [
            "placeholder.json": #"""
            {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "placeholder"},
             "availability": {"frequency": ‸"Dayly", "interval": 1}}}
            """#,
            ],
            file: "placeholder.json", line: 3, column: 32,
            message: #"did you mean Day?"#),
        MalformedCase(
            "unknown activity type, with a hint",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": ‸"AzureMLUpdateResources", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 5, column: 29,
            message: #"did you mean AzureMLUpdateResource?"#),
        MalformedCase(
            "unknown executionPriorityOrder, with a hint",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}, "policy": {"executionPriorityOrder": ‸"NewstFirst"}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 4, column: 131,
            message: #"did you mean NewestFirst?"#),
        MalformedCase(
            "unknown partitionedBy date, with a hint",
            files: [
            "input.json": #"""
            {"name": "Input", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "data/{Day}", "fileName": "in.csv",
              "partitionedBy": [{"name": "Day", "value": {"type": "DateTime", "date": ‸"SliceStrat", "format": "yyyyMMdd"}}]},
             "external": true,
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "input.json", line: 3, column: 75,
            message: #"did you mean SliceStart?"#),
        MalformedCase(
            "unknown pipelineMode",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"pipelineMode": ‸"once", "start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 1, column: 52,
            message: #"pipelineMode "once" is not one of Scheduled, OneTime"#),
        MalformedCase(
            "Copy activities are recognised but not run",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": ‸"Copy", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 5, column: 29,
            message: #"Refit cannot run Copy activities"#),
        MalformedCase(
            "missing output dataset, with a hint",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": ‸"Placeholdr"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 6, column: 55,
            message: #"dataset 'Placeholdr' is not defined; did you mean Placeholder?"#),
        MalformedCase(
            "missing linked service of a dataset",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": ‸"Blobs",
             "typeProperties": {"folderPath": "models", "fileName": "model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 1, column: 76,
            message: #"linked service 'Blobs' is not defined"#),
        MalformedCase(
            "missing linked service in the v2 reference form",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": {"referenceName": ‸"Nope", "type": "LinkedServiceReference"},
             "typeProperties": {"folderPath": "models", "fileName": "model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 1, column: 94,
            message: #"linked service 'Nope' is not defined"#),
        MalformedCase(
            "a dataset's linked service of the wrong kind",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": ‸"ML",
             "typeProperties": {"folderPath": "models", "fileName": "model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 1, column: 76,
            message: #"a dataset of type AzureBlob needs an AzureStorage or AzureStorageSas linked service; 'ML' is AzureML"#),
        MalformedCase(
            "an AzureML activity on a storage linked service",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": ‸"Storage",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 2, column: 74,
            message: #"AzureMLBatchExecution needs an AzureML linked service; 'Storage' is AzureStorage"#),
        MalformedCase(
            "update resource on a linked service without updateResourceEndpoint",
            files: [
            "ml2.json": #"""
            {"name": "ML2", "properties": {"type": "AzureML", "typeProperties": {
             "mlEndpoint": "https://ml.example/jobs", "apiKey": {"env": "ML_KEY"}}}}
            """#,
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": ‸"ML2",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 5, column: 75,
            message: #"needs a linked service with updateResourceEndpoint"#),
        MalformedCase(
            "webServiceInput not among the inputs",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": ‸"Model", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 4, column: 41,
            message: #"web service input dataset 'Model' must also be listed in the inputs"#),
        MalformedCase(
            "webServiceOutputs dataset not among the outputs",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": ‸"Input"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 4, column: 83,
            message: #"web service output dataset 'Input' must also be listed in the outputs"#),
        MalformedCase(
            "trainedModelDatasetName not among the inputs",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": ‸"Input"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 7, column: 74,
            message: #"trainedModelDatasetName 'Input' must also be listed in the inputs"#),
        MalformedCase(
            "an activity without outputs",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": ‸[],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 6, column: 45,
            message: #"has no outputs"#),
        MalformedCase(
            "interval 0",
            files: [
            "placeholder.json": #"""
            {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "placeholder"},
             "availability": {"frequency": "Day", "interval": ‸0}}}
            """#,
            ],
            file: "placeholder.json", line: 3, column: 51,
            message: #"availability.interval must be at least 1, not 0"#),
        MalformedCase(
            "negative interval as a string",
            files: [
            "placeholder.json": #"""
            {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "placeholder"},
             "availability": {"frequency": "Day", "interval": ‸"-2"}}}
            """#,
            ],
            file: "placeholder.json", line: 3, column: 51,
            message: #"availability.interval must be at least 1, not -2"#),
        MalformedCase(
            "malformed TimeSpan",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}, "policy": {"timeout": ‸"2 hours"}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 4, column: 116,
            message: #"policy.timeout '2 hours' is not a TimeSpan"#),
        MalformedCase(
            "malformed offset TimeSpan",
            files: [
            "placeholder.json": #"""
            {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "placeholder"},
             "availability": {"frequency": "Day", "interval": 1, "offset": ‸"6h"}}}
            """#,
            ],
            file: "placeholder.json", line: 3, column: 64,
            message: #"availability.offset '6h' is not a TimeSpan"#),
        MalformedCase(
            "malformed start date",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": ‸"2026-13-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 1, column: 45,
            message: #"start '2026-13-01' is not an ISO 8601 date-time"#),
        MalformedCase(
            "malformed anchorDateTime",
            files: [
            "placeholder.json": #"""
            {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "placeholder"},
             "availability": {"frequency": "Day", "interval": 1, "anchorDateTime": ‸"yesterday"}}}
            """#,
            ],
            file: "placeholder.json", line: 3, column: 72,
            message: #"anchorDateTime 'yesterday' is not an ISO 8601 date-time"#),
        MalformedCase(
            "end before start",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": ‸"2025-12-31", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 1, column: 66,
            message: #"end 2025-12-31T00:00:00Z is before start 2026-01-01T00:00:00Z"#),
        MalformedCase(
            "policy.concurrency above 10",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}, "policy": {"concurrency": ‸11}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 4, column: 120,
            message: #"policy.concurrency must be between 1 and 10, not 11"#),
        MalformedCase(
            "policy.longRetry 0",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}, "policy": {"retry": 3, "longRetry": ‸0}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 4, column: 130,
            message: #"policy.longRetry must be between 1 and 10, not 0"#),
        MalformedCase(
            "externalData.maximumRetry above 10",
            files: [
            "input.json": #"""
            {"name": "Input", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "data/{Day}", "fileName": "in.csv",
              "partitionedBy": [{"name": "Day", "value": {"type": "DateTime", "date": "SliceStart", "format": "yyyyMMdd"}}]},
             "external": true, "policy": {"externalData": {"maximumRetry": ‸11}},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "input.json", line: 4, column: 64,
            message: #"policy.externalData.maximumRetry must be between 1 and 10, not 11"#),
        MalformedCase(
            "scheduler frequency differs from the output availability",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}, "scheduler": {"frequency": ‸"Hour", "interval": 1}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 4, column: 121,
            message: #"scheduler.frequency Hour differs from output dataset 'Model' (Day)"#),
        MalformedCase(
            "scheduler offset differs from the output availability",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}, "scheduler": {"frequency": "Day", "interval": 1, "offset": ‸"06:00:00"}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 4, column: 153,
            message: #"scheduler.offset 06:00:00 differs from output dataset 'Model' (00:00:00)"#),
        MalformedCase(
            "dependency cycle between two activities",
            files: [
            "loopA.json": #"""
            {"name": "LoopA", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "loop/a"}, "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            "loopB.json": #"""
            {"name": "LoopB", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "loop/b"}, "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            "loop.json": #"""
            {"name": "Loop", "properties": {"activities": [
             {"name": ‸"first", "type": "Command", "typeProperties": {"arguments": ["true"]},
              "inputs": [{"name": "LoopB"}], "outputs": [{"name": "LoopA"}]},
             {"name": "second", "type": "Command", "typeProperties": {"arguments": ["true"]},
              "inputs": [{"name": "LoopA"}], "outputs": [{"name": "LoopB"}]}]}}
            """#,
            ],
            file: "loop.json", line: 2, column: 11,
            message: #"dependency cycle: 'Loop/first' → 'Loop/second' → 'Loop/first'"#),
        MalformedCase(
            "dependency cycle across pipelines",
            files: [
            "back.json": #"""
            {"name": "Back", "properties": {"activities": [
             {"name": ‸"feedback", "type": "Command", "typeProperties": {"arguments": ["true"]},
              "inputs": [{"name": "Placeholder"}], "outputs": [{"name": "Input2"}]}]}}
            """#,
            "input2.json": #"""
            {"name": "Input2", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "in2", "fileName": "in.csv"}, "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input2"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input2", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "back.json", line: 2, column: 11,
            message: #"dependency cycle: 'Back/feedback' → 'Retrain/train' → 'Retrain/update' → 'Back/feedback'"#),
        MalformedCase(
            "{Token} without a partitionedBy entry",
            files: [
            "input.json": #"""
            {"name": "Input", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "data/{Day}", "fileName": "in-‸{Hour}.csv",
              "partitionedBy": [{"name": "Day", "value": {"type": "DateTime", "date": "SliceStart", "format": "yyyyMMdd"}}]},
             "external": true,
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "input.json", line: 2, column: 65,
            message: #"{Hour} in fileName has no partitionedBy entry named 'Hour'"#),
        MalformedCase(
            "{Token} in a dataset without partitionedBy",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "models/‸{Year}", "fileName": "model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 2, column: 43,
            message: #"{Year} in folderPath has no partitionedBy entry"#),
        MalformedCase(
            "'..' segment in folderPath",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "models/‸../etc", "fileName": "model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 2, column: 43,
            message: #"'..' in folderPath escapes the dataset's root folder"#),
        MalformedCase(
            "absolute fileName",
            files: [
            "model.json": #"""
            {"name": "Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "models", "fileName": "‸/model.ilearner"},
             "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "model.json", line: 2, column: 58,
            message: #"fileName must be relative to its root; remove the leading '/'"#),
        MalformedCase(
            "duplicate dataset name across files",
            files: [
            "zz-model-copy.json": #"""
            {"name": ‸"Model", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "copy"}, "availability": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "zz-model-copy.json", line: 1, column: 10,
            message: #"duplicate dataset name 'Model'; first defined at {dir}/model.json:1"#),
        MalformedCase(
            "duplicate activity name in a pipeline",
            files: [
            "pipeline.json": #"""
            {"name": "Retrain", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": ‸"train", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 5, column: 11,
            message: #"has two activities named 'train' (first at line 2, column 11)"#),
        MalformedCase(
            "pipeline name with a forbidden character",
            files: [
            "pipeline.json": #"""
            {"name": "Re‸/train", "properties": {"start": "2026-01-01", "end": "2026-01-10", "activities": [
             {"name": "train", "type": "AzureMLBatchExecution", "linkedServiceName": "ML",
              "inputs": [{"name": "Input"}], "outputs": [{"name": "Model"}],
              "typeProperties": {"webServiceInput": "Input", "webServiceOutputs": {"output1": "Model"}}},
             {"name": "update", "type": "AzureMLUpdateResource", "linkedServiceName": "ML",
              "inputs": [{"name": "Model"}], "outputs": [{"name": "Placeholder"}],
              "typeProperties": {"trainedModelName": "m", "trainedModelDatasetName": "Model"}}]}}
            """#,
            ],
            file: "pipeline.json", line: 1, column: 13,
            message: #"pipeline name 'Re/train' must not contain '/'"#),
        MalformedCase(
            "secret object of the wrong shape",
            files: [
            "ml.json": #"""
            {"name": "ML", "properties": {"type": "AzureML", "typeProperties": {
             "mlEndpoint": "https://ml.example/jobs", "apiKey": ‸{"vault": "kv"},
             "updateResourceEndpoint": "https://ml.example/update"}}}
            """#,
            ],
            file: "ml.json", line: 2, column: 53,
            message: #"apiKey must be a string or {"env": "NAME"} or {"file": "PATH"}"#),
        MalformedCase(
            "misspelt required key",
            files: [
            "placeholder.json": #"""
            {"name": "Placeholder", "properties": {"type": "AzureBlob", "linkedServiceName": "Storage",
             "typeProperties": {"folderPath": "placeholder"},
             ‸"availabilty": {"frequency": "Day", "interval": 1}}}
            """#,
            ],
            file: "placeholder.json", line: 3, column: 2,
            message: #"has no "availability"; did you mean "availability" instead of "availabilty"?"#),
        MalformedCase(
            "entity kind cannot be determined",
            files: [
            "extra.json": #"""
            {"name": "Mystery", "properties": ‸{"description": "no type, no activities"}}
            """#,
            ],
            file: "extra.json", line: 1, column: 35,
            message: #"cannot tell what this file defines"#),
    ]
}
