package renewchannels

import (
	"testing"
	"time"

	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/platform"
)

// The renewer gets the webhook address and the renewal timings from the configuration.
func TestRenewerTakesItsConfiguration(t *testing.T) {
	t.Parallel()
	env := config.Env{WebhookURL: "https://hook.example/", ChannelTTL: 5 * time.Hour, ChannelRenewMargin: time.Hour,
		SafetySyncInterval: 10 * time.Minute, FullResyncInterval: 3 * time.Hour}
	r := Renewer(&platform.Platform{Env: env})
	if r.WebhookURL != env.WebhookURL || r.TTL != env.ChannelTTL || r.Margin != env.ChannelRenewMargin ||
		r.SafetyInterval != env.SafetySyncInterval || r.FullInterval != env.FullResyncInterval {
		t.Errorf("renewer %+v does not reflect %+v", r, env)
	}
	if r.Lists == nil || r.Accounts == nil {
		t.Error("renewer has no calendar lister or accounts")
	}
}
