// Command imaging-dicom is the DICOM plugin: package dicomreader served over
// the HealthHub plugin protocol. The hub launches it; run on its own it
// prints a notice and exits.
//
// Its configuration object is dicomreader.Config, checked against
// config.schema.json by the hub and again by Configure.
package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/healthhub/healthhub/plugins/imaging/dicom/dicomreader"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	sdk.Serve(sdk.Provider{
		Info: dicomreader.Info(),
		ImageAnalyzer: &loggedReader{
			Reader: &dicomreader.Reader{},
			logger: sdk.NewPluginLogger(),
		},
	})
}

// loggedReader is the imaging provider the plugin serves: it logs each
// configuration it accepts. It logs nothing from the objects it reads.
type loggedReader struct {
	*dicomreader.Reader
	logger *slog.Logger
}

var (
	_ sdk.ImageAnalyzer = loggedReader{}
	_ sdk.StudyReader   = loggedReader{}
	_ sdk.Deidentifier  = loggedReader{}
	_ sdk.Configurer    = loggedReader{}
	_ sdk.HealthChecker = loggedReader{}
)

// Configure applies config and logs the settings in force.
func (r loggedReader) Configure(ctx context.Context, config json.RawMessage) error {
	if err := r.Reader.Configure(ctx, config); err != nil {
		return err
	}
	s := r.Settings()
	r.logger.Info("imaging-dicom configured", "max_object_bytes", s.MaxObjectBytes, "time_zone", s.TimeZone)
	return nil
}
