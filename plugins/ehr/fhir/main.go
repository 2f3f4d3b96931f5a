// Command ehr-fhir is the FHIR R4 EHR connector plugin: package fhirclient
// served over the HealthHub plugin protocol. The hub launches it and
// configures it with fhirclient.Config as JSON, checked against
// config.schema.json by the hub and again by the plugin.
package main

import (
	"github.com/healthhub/healthhub/plugins/ehr/fhir/fhirclient"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	sdk.Serve(sdk.Provider{Info: fhirclient.Info(), EHR: fhirclient.New(sdk.NewPluginLogger())})
}
