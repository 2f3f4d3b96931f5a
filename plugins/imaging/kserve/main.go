// Command imaging-kserve is the KServe v2 imaging plugin: package
// kserveinfer served over the HealthHub plugin protocol. The hub launches
// it and configures it with kserveinfer.Config as JSON, checked against
// config.schema.json by the hub and again by the plugin.
package main

import (
	"github.com/healthhub/healthhub/plugins/imaging/kserve/kserveinfer"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	sdk.Serve(sdk.Provider{Info: kserveinfer.Info(), ImageAnalyzer: kserveinfer.New(sdk.NewPluginLogger())})
}
