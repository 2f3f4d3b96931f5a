//go:build integration

package api

func init() {
	registerPipelineRoutes = func(s *Server) {
		s.RegisterPlugins(nil)
		s.RegisterPolicy(nil)
		s.RegisterPipeline(&Pipeline{})
	}
}
