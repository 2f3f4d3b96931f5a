package auth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func BenchmarkVerifyHubToken(b *testing.B) {
	key := ed25519Key(b)
	issuer, err := NewIssuer(key, Config{})
	require.NoError(b, err)
	issued, err := issuer.Issue(TokenRequest{Subject: "dr-lee", Roles: []string{"clinician"}, Tenant: "north", Scopes: []string{"user/*.cruds"}})
	require.NoError(b, err)
	a, err := NewAuthenticator(Config{}, Options{HubKey: key.Public().(ed25519PublicKey), Logger: discardLogger()})
	require.NoError(b, err)

	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Verify(context.Background(), issued.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.cache = newTokenCache()
			if _, err := a.Verify(context.Background(), issued.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyAPIKey(b *testing.B) {
	store, err := OpenKeyStore(filepath.Join(b.TempDir(), "apikeys.json"))
	require.NoError(b, err)
	key, _, err := store.Create(APIKeySpec{Subject: "svc", Roles: []string{"service"}, Tenant: "north"}, time.Now())
	require.NoError(b, err)

	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Verify(key, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
