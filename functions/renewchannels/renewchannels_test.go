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
	cfg := Config{
		Channels:     config.Channels{WebhookURL: "https://hook.example/", ChannelTTL: 5 * time.Hour, ChannelRenewMargin: time.Hour},
		SyncSchedule: config.SyncSchedule{SafetySyncInterval: 10 * time.Minute, PollInterval: 7 * time.Minute, FullResyncInterval: 3 * time.Hour},
	}
	r := Renewer(&platform.Platform{}, cfg)
	if r.WebhookURL != cfg.WebhookURL || r.TTL != cfg.ChannelTTL || r.Margin != cfg.ChannelRenewMargin ||
		r.SafetyInterval != cfg.SafetySyncInterval || r.PollInterval != cfg.PollInterval || r.FullInterval != cfg.FullResyncInterval {
		t.Errorf("renewer %+v does not reflect %+v", r, cfg)
	}
	if r.Lists == nil || r.Accounts == nil {
		t.Error("renewer has no calendar lister or accounts")
	}
}
