// Package config loads the hub configuration: one YAML file plus HUB_*
// environment variables, validated against an embedded JSON Schema before
// anything reads it.
//
// Every key can be set from the environment: the variable's name is HUB_
// followed by the key's path in upper case with dots replaced by
// underscores, so server.listen is HUB_SERVER_LISTEN and
// auth.oidc.jwks_url is HUB_AUTH_OIDC_JWKS_URL. An environment variable
// wins over the file. Values are read as the schema's type of the key:
// "true" and "false" for booleans, decimal numbers for numbers.
//
// Unknown keys are errors, and every error names the key it is about, such
// as "logging.level: must be one of debug, info, warn, error". With no file
// and no variables the hub listens on 127.0.0.1:8080 and keeps its data in
// ./data.
package config
