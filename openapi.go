package notifyd

import _ "embed"

// OpenAPISpec is openapi.yaml, the contract of notifyd's HTTP API, as
// served at GET /openapi.yaml and used to validate requests.
//
//go:embed openapi.yaml
var OpenAPISpec []byte
