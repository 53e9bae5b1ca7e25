/*
 * routes.h - the one list of the server's operations and of the error codes
 * it answers with. The router, the metrics and the docs' table are built
 * from these lists; nothing else names a route or a code.
 */
#ifndef LARDER_SERVER_ROUTES_H
#define LARDER_SERVER_ROUTES_H

/*
 * Runtime and utility routes, matched in order:
 * X(id, "OperationName", method, "path prefix", takes a {name} segment, "suffix")
 * A route with a name matches prefix + one non-empty segment without '/' +
 * suffix; one without matches the prefix exactly.
 */
#define LR_SRV_ROUTES(X)                                                                           \
    X(OP_GET_RECORD, "GetRecord", HTTP_GET, "/FeatureGroup/", 1, "")                               \
    X(OP_PUT_RECORD, "PutRecord", HTTP_PUT, "/FeatureGroup/", 1, "")                               \
    X(OP_DELETE_RECORD, "DeleteRecord", HTTP_DELETE, "/FeatureGroup/", 1, "")                      \
    X(OP_LIST_RECORDS, "ListRecords", HTTP_POST, "/FeatureGroup/", 1, "/ListRecords")              \
    X(OP_UPDATE_RECORD, "UpdateRecord", HTTP_POST, "/FeatureGroup/", 1, "/Record")                 \
    X(OP_BATCH_GET_RECORD, "BatchGetRecord", HTTP_POST, "/BatchGetRecord", 0, "")                  \
    X(OP_BATCH_WRITE_RECORD, "BatchWriteRecord", HTTP_POST, "/BatchWriteRecord", 0, "")            \
    X(OP_HEALTHZ, "Healthz", HTTP_GET, "/healthz", 0, "")                                          \
    X(OP_METRICS, "Metrics", HTTP_GET, "/metrics", 0, "")                                          \
    X(OP_LIST_JOBS, "ListJobs", HTTP_GET, "/v1/jobs", 0, "")                                       \
    X(OP_GET_JOB, "GetJob", HTTP_GET, "/v1/jobs/", 1, "")

/* Control-plane operations: POST / with X-Amz-Target: SageMaker.<name>. X(id, "name") */
#define LR_SRV_CONTROL_OPS(X)                                                                      \
    X(OP_CREATE_FEATURE_GROUP, "CreateFeatureGroup")                                               \
    X(OP_DESCRIBE_FEATURE_GROUP, "DescribeFeatureGroup")                                           \
    X(OP_UPDATE_FEATURE_GROUP, "UpdateFeatureGroup")                                               \
    X(OP_DELETE_FEATURE_GROUP, "DeleteFeatureGroup")                                               \
    X(OP_LIST_FEATURE_GROUPS, "ListFeatureGroups")                                                 \
    X(OP_DESCRIBE_FEATURE_METADATA, "DescribeFeatureMetadata")                                     \
    X(OP_UPDATE_FEATURE_METADATA, "UpdateFeatureMetadata")                                         \
    X(OP_SEARCH, "Search")

/*
 * Error codes: X(id, "Code", HTTP status on the runtime API, on the control
 * plane). botocore takes the code from x-amzn-ErrorType. The runtime's codes
 * are those of the sagemaker-featurestore-runtime model; the control plane's
 * are SageMaker's (every modelled one is a 400) plus AWS's common
 * authentication errors of JSON services.
 */
#define LR_SRV_ERRORS(X)                                                                           \
    X(ERR_VALIDATION, "ValidationError", 400, 400)                                                 \
    X(ERR_VALIDATION_EXCEPTION, "ValidationException", 400, 400)                                   \
    X(ERR_ACCESS_FORBIDDEN, "AccessForbidden", 403, 403)                                           \
    X(ERR_MISSING_AUTH, "MissingAuthenticationToken", 403, 403)                                    \
    X(ERR_INVALID_SIGNATURE, "InvalidSignatureException", 403, 403)                                \
    X(ERR_UNRECOGNIZED_CLIENT, "UnrecognizedClientException", 403, 403)                            \
    X(ERR_NOT_FOUND, "ResourceNotFound", 404, 400)                                                 \
    X(ERR_IN_USE, "ResourceInUse", 400, 400)                                                       \
    X(ERR_LIMIT_EXCEEDED, "ResourceLimitExceeded", 400, 400)                                       \
    X(ERR_CONFLICT, "ConflictException", 409, 409)                                                 \
    X(ERR_UNKNOWN_OPERATION, "UnknownOperationException", 400, 400)                                \
    X(ERR_NOT_FOUND_ROUTE, "UnknownOperationException", 404, 404)                                  \
    X(ERR_METHOD, "MethodNotAllowed", 405, 405)                                                    \
    X(ERR_REQUEST_TIMEOUT, "RequestTimeout", 408, 408)                                             \
    X(ERR_TOO_LARGE, "ValidationError", 413, 413)                                                  \
    X(ERR_HEADERS_TOO_LARGE, "ValidationError", 431, 431)                                          \
    X(ERR_BAD_REQUEST, "BadRequest", 400, 400)                                                     \
    X(ERR_INTERNAL, "InternalFailure", 500, 500)                                                   \
    X(ERR_UNAVAILABLE, "ServiceUnavailable", 503, 503)

#endif
