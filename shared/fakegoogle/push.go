package fakegoogle

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type channel struct {
	id, resourceID, resourceURI string
	cal                         string // calendar id, or "calendarList:<owner>"
	owner, address, token       string
	expiration                  time.Time
	stopped                     bool
	msgNum                      int64
}

// Channel describes a watch channel.
type Channel struct {
	ID         string    `json:"id"`
	ResourceID string    `json:"resourceId"`
	Calendar   string    `json:"calendar"`
	Address    string    `json:"address"`
	Token      string    `json:"token,omitempty"`
	Expiration time.Time `json:"expiration"`
	Stopped    bool      `json:"stopped"`
	Expired    bool      `json:"expired"`
	Messages   int64     `json:"messages"`
}

// Delivery is one push notification the fake sent (or dropped).
type Delivery struct {
	Seq           int       `json:"seq"`
	ChannelID     string    `json:"channelId"`
	Calendar      string    `json:"calendar"`
	Address       string    `json:"address"`
	State         string    `json:"state"` // sync or exists
	MessageNumber int64     `json:"messageNumber"`
	Status        int       `json:"status"` // last HTTP status, 0 if none
	Attempts      int       `json:"attempts"`
	Error         string    `json:"error,omitempty"`
	Dropped       bool      `json:"dropped,omitempty"`
	Duplicate     bool      `json:"duplicate,omitempty"`
	At            time.Time `json:"at"` // fake clock
}

type watchBody struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Address    string            `json:"address"`
	Token      string            `json:"token"`
	Expiration string            `json:"expiration"`
	Params     map[string]string `json:"params"`
}

func (s *Server) allowHTTP() bool { return s.opts.AllowHTTPPush == nil || *s.opts.AllowHTTPPush }

// handleWatch serves events.watch (cal != "") and calendarList.watch (cal == "").
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, calID string) {
	op, scopes := "events.watch", scopesEventsRead
	if calID == "" {
		op, scopes = "calendarList.watch", scopesCalendarList
	}
	c, ok := s.apiCall(w, r, op, calID, scopes...)
	if !ok {
		return
	}
	sel, ok := mask(w, r, typeChannel)
	if !ok {
		return
	}
	var b watchBody
	if err := readJSON(r, &b); err != nil {
		writeErr(w, err)
		return
	}
	if b.ID == "" || len(b.ID) > 64 || strings.ContainsAny(b.ID, " \t\r\n") {
		writeErr(w, errf(400, "required", "Channel id must be 1-64 characters without spaces."))
		return
	}
	if t := strings.ToLower(b.Type); t != "web_hook" && t != "webhook" {
		writeErr(w, errf(400, "invalid", "Invalid channel type: %s", b.Type))
		return
	}
	u, err := url.Parse(b.Address)
	if err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && s.allowHTTP())) {
		writeErr(w, errf(400, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS: %s", b.Address))
		return
	}
	if len(b.Token) > 256 {
		writeErr(w, errf(400, "invalid", "Channel token too long."))
		return
	}
	ttl := defaultChannelTTL
	if v := b.Params["ttl"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeErr(w, errf(400, "invalid", "Invalid ttl value: %s", v))
			return
		}
		ttl = time.Duration(min(n, int64(maxChannelTTL/time.Second))) * time.Second
	}
	s.mu.Lock()
	now := s.now()
	exp := now.Add(ttl)
	if b.Expiration != "" {
		ms, err := strconv.ParseInt(b.Expiration, 10, 64)
		if err != nil {
			s.mu.Unlock()
			writeErr(w, errf(400, "invalid", "Invalid expiration."))
			return
		}
		if req := time.UnixMilli(ms); req.After(now) && req.Before(exp) {
			exp = req
		} else if req.After(now) && req.Before(now.Add(maxChannelTTL)) && b.Params["ttl"] == "" {
			exp = req
		}
	}
	exp = exp.Truncate(time.Millisecond)
	var resID, resURI, target string
	if calID == "" {
		target = "calendarList:" + c.key
		resID = "cl-" + strings.ReplaceAll(c.acct.Sub, "_", "")
		resURI = "https://www.googleapis.com/calendar/v3/users/me/calendarList?alt=json"
	} else {
		cd, aerr := s.calendarFor(c, calID)
		if aerr != nil {
			s.mu.Unlock()
			writeErr(w, aerr)
			return
		}
		if aerr := pushUnsupported(cd.id); aerr != nil {
			s.mu.Unlock()
			writeErr(w, aerr)
			return
		}
		target, resID = cd.id, cd.resourceID
		resURI = googleAPIsCalendarResourceURIBase + url.PathEscape(cd.id) + "/events?alt=json"
	}
	if _, dup := s.channels[b.ID]; dup {
		s.mu.Unlock()
		writeErr(w, errf(400, "channelIdNotUnique", "Channel id %s not unique", b.ID))
		return
	}
	ch := &channel{id: b.ID, resourceID: resID, resourceURI: resURI, cal: target, owner: c.key,
		address: b.Address, token: b.Token, expiration: exp}
	s.channels[ch.id] = ch
	s.chanOrder = append(s.chanOrder, ch.id)
	s.sendLocked(ch, "sync")
	s.mu.Unlock()
	resp := map[string]any{"kind": "api#channel", "id": ch.id, "resourceId": ch.resourceID,
		"resourceUri": ch.resourceURI, "expiration": strconv.FormatInt(exp.UnixMilli(), 10)}
	if ch.token != "" {
		resp["token"] = ch.token
	}
	writeMasked(w, 200, resp, sel)
}

func (s *Server) handleChannelsStop(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		googleError(w, 405, "httpMethodNotAllowed", "Method Not Allowed")
		return
	}
	_, ok := s.apiCall(w, r, "channels.stop", "", append(scopesEventsRead, scopesCalendarList...)...)
	if !ok {
		return
	}
	var b struct {
		ID         string `json:"id"`
		ResourceID string `json:"resourceId"`
	}
	if err := readJSON(r, &b); err != nil {
		writeErr(w, err)
		return
	}
	if err := s.StopChannel(b.ID, b.ResourceID); err != nil {
		writeErr(w, errf(404, "notFound", "Channel '%s' not found for project '000000000000'", b.ID))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// StopChannel stops a channel as channels.stop does; unknown id, resource id mismatch
// or an already stopped channel is an error.
func (s *Server) StopChannel(id, resourceID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[id]
	if ch == nil || ch.resourceID != resourceID || ch.stopped {
		return ctlErr(404, "unknown_channel", "channel not found")
	}
	ch.stopped = true
	return nil
}

// Channels lists every watch channel ever created.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := []Channel{}
	for _, id := range s.chanOrder {
		ch := s.channels[id]
		out = append(out, Channel{ID: ch.id, ResourceID: ch.resourceID, Calendar: ch.cal, Address: ch.address,
			Token: ch.token, Expiration: ch.expiration, Stopped: ch.stopped, Expired: !now.Before(ch.expiration),
			Messages: ch.msgNum})
	}
	return out
}

// Deliveries returns the push delivery log, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	copy(out, s.deliveries)
	return out
}

// notify sends "exists" to every live channel watching the calendar.
func (s *Server) notify(calID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyLocked(calID)
}

func (s *Server) notifyLocked(calID string) {
	now := s.now()
	for _, id := range s.chanOrder {
		ch := s.channels[id]
		if ch.cal == calID && !ch.stopped && now.Before(ch.expiration) {
			s.sendLocked(ch, "exists")
		}
	}
}

// sendLocked numbers a message and starts its delivery (or drops/duplicates it).
func (s *Server) sendLocked(ch *channel, state string) {
	ch.msgNum++
	now := s.now()
	d := Delivery{ChannelID: ch.id, Calendar: ch.cal, Address: ch.address, State: state,
		MessageNumber: ch.msgNum, At: now}
	if s.closed {
		return
	}
	if s.pushDropN > 0 || now.Before(s.dropUntil) {
		if s.pushDropN > 0 && !now.Before(s.dropUntil) {
			s.pushDropN--
		}
		d.Dropped = true
		s.deliverySeq++
		d.Seq = s.deliverySeq
		s.deliveries = append(s.deliveries, d)
		return
	}
	n := 1
	if s.pushDupN > 0 {
		s.pushDupN--
		n = 2
	}
	snap := *ch
	for i := 0; i < n; i++ {
		dd := d
		dd.Duplicate = i > 0
		s.inflight++
		s.pushWG.Add(1)
		go s.deliver(snap, dd)
	}
}

func (s *Server) deliver(ch channel, d Delivery) {
	defer s.pushWG.Done()
	backoff := s.opts.PushBackoff
	for attempt := 0; attempt <= s.opts.PushRetries; attempt++ {
		if attempt > 0 {
			time.Sleep(backoff)
			backoff *= 2
		}
		d.Attempts++
		status, err := s.post(ch, d)
		d.Status = status
		d.Error = ""
		if err != nil {
			d.Error = err.Error()
		}
		if err == nil && status != 500 && status != 502 && status != 503 && status != 504 {
			break
		}
	}
	s.mu.Lock()
	s.deliverySeq++
	d.Seq = s.deliverySeq
	s.deliveries = append(s.deliveries, d)
	s.inflight--
	if s.inflight == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
	s.mu.Unlock()
}

func (s *Server) post(ch channel, d Delivery) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.PushTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.address, http.NoBody)
	if err != nil {
		return 0, err
	}
	h := req.Header
	h.Set("X-Goog-Channel-ID", ch.id)
	if ch.token != "" {
		h.Set("X-Goog-Channel-Token", ch.token)
	}
	h.Set("X-Goog-Channel-Expiration", ch.expiration.UTC().Format(rfc1123GMT))
	h.Set("X-Goog-Resource-ID", ch.resourceID)
	h.Set("X-Goog-Resource-URI", ch.resourceURI)
	h.Set("X-Goog-Resource-State", d.State)
	h.Set("X-Goog-Message-Number", strconv.FormatInt(d.MessageNumber, 10))
	h.Set("User-Agent", "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)")
	h.Set("Content-Length", "0")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// WaitIdle waits until no push delivery is in flight.
func (s *Server) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.inflight == 0 {
			s.mu.Unlock()
			return nil
		}
		if s.idle == nil {
			s.idle = make(chan struct{})
		}
		ch := s.idle
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
