package manage

import (
	"errors"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/connect"
	"github.com/belbo/calsync/shared/jsonhttp"
	"github.com/belbo/calsync/shared/store"
)

type connectionJSON struct {
	ID              string `json:"id"`
	Email           string `json:"email"`
	Status          string `json:"status"`
	PictureURL      string `json:"pictureUrl"`
	WriteCalendarID string `json:"writeCalendarId"`
	Health          any    `json:"health,omitempty"`
	// DeleteAfter: a reauth_required connection is deleted then unless reconnected.
	DeleteAfter *time.Time `json:"deleteAfter,omitempty"`
}

func (a *api) startConnection(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ReturnURL string `json:"returnUrl"`
	}
	now, ok := a.decodeNow(w, r, &body)
	if !ok {
		return
	}
	started, err := a.connect().Start(r.Context(), r.PathValue("tenant"), r.PathValue("staff"), body.ReturnURL, now)
	if errors.Is(err, connect.ErrReturnURL) {
		jsonhttp.Error(w, http.StatusBadRequest, "return_url_not_allowed", "returnUrl is not on the allow-list (ALLOWED_RETURN_URLS)")
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusCreated, map[string]string{"authUrl": started.AuthURL, "connectId": started.ConnectID})
}

func (a *api) listConnections(w http.ResponseWriter, r *http.Request) {
	now, ok := a.now(w, r)
	if !ok {
		return
	}
	conns, err := a.p.Store.ListConnections(r.Context(), r.PathValue("tenant"), r.PathValue("staff"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	settings, err := a.p.Store.TenantSettings(r.Context(), r.PathValue("tenant"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	svc := a.connect()
	out := make([]connectionJSON, 0, len(conns))
	for _, c := range conns {
		pic := svc.Picture(r.Context(), c, now) // may turn c reauth_required
		h := a.health(r, c, now)
		if h != nil {
			h.ApplySlotsPolicy(settings.SlotsWhenReauthNeeded)
		}
		var hv any
		if h != nil {
			hv = h
		}
		cj := connectionJSON{ID: c.ID, Email: c.Email, Status: c.Status, PictureURL: pic, WriteCalendarID: c.WriteCalendarID, Health: hv}
		if c.Status == store.StatusReauthRequired {
			at := settings.Retention.ReauthDeleteAt(c.StatusChangedAt).UTC()
			cj.DeleteAfter = &at
		}
		out = append(out, cj)
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, map[string]any{"connections": out})
}

func (a *api) patchConnection(w http.ResponseWriter, r *http.Request) {
	var body struct {
		WriteCalendarID string `json:"writeCalendarId"`
	}
	if err := jsonhttp.Decode(w, r, 4<<10, &body); err != nil {
		jsonhttp.Fail(w, err)
		return
	}
	if body.WriteCalendarID == "" || len(body.WriteCalendarID) > 1024 {
		jsonhttp.Error(w, http.StatusBadRequest, "invalid_write_calendar", "writeCalendarId is required")
		return
	}
	c, now, ok := a.connectionNow(w, r)
	if !ok {
		return
	}
	switch err := a.connect().SetWriteCalendar(r.Context(), c, body.WriteCalendarID, now); {
	case errors.Is(err, connect.ErrNoCalendar):
		jsonhttp.Error(w, http.StatusNotFound, "calendar_not_found", "the connection has no such calendar")
		return
	case errors.Is(err, connect.ErrNotWritable):
		jsonhttp.Error(w, http.StatusUnprocessableEntity, "calendar_not_writable", "the account may not write to this calendar")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, connectionJSON{ID: c.ID, Email: c.Email, Status: c.Status, WriteCalendarID: c.WriteCalendarID})
}

func (a *api) disconnect(w http.ResponseWriter, r *http.Request) {
	c, ok := a.connection(w, r)
	if !ok {
		return
	}
	if err := a.connect().Disconnect(r.Context(), c); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
