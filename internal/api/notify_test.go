package api_test

import (
	"testing"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/notify"
)

// FuzzDecodeWebhook: a webhook's registration is either refused as
// invalid or decoded to an address ParseURL accepts.
func FuzzDecodeWebhook(f *testing.F) {
	for _, s := range []string{`{"url":"https://example.org/h","events":["allegation.filed_against"]}`, `{"url":`, `{"url":"x","extra":1}`,
		`{"url":"https://a@b/","events":[]}{}`, `null`, `{"events":[1]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := api.DecodeWebhook(body)
		if err != nil {
			if truce.ErrorCode(err) != truce.CodeInvalid {
				t.Fatalf("DecodeWebhook(%q) = %v", body, err)
			}
			return
		}
		if _, err := notify.ParseURL(in.URL); err != nil {
			t.Fatalf("DecodeWebhook(%q) accepted %q: %v", body, in.URL, err)
		}
	})
}
