//go:build integration

package api

func init() {
	registerPipelineRoutes = func(s *Server) {
		s.RegisterPlugins(nil)
		s.RegisterPipeline(&Pipeline{})
	}
}
