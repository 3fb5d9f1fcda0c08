package connect

import (
	"context"
	"time"

	"github.com/belbo/calsync/shared/googlecal"
	"github.com/belbo/calsync/shared/store"
)

// Picture fetches the account's profile picture URL live. It is returned to the caller
// only — never stored, cached or logged. A revoked grant turns the connection
// reauth_required and yields "".
func (s *Service) Picture(ctx context.Context, conn *store.Connection, now time.Time) string {
	if conn.Status != store.StatusActive {
		return ""
	}
	sess, err := s.Accounts.Open(ctx, conn)
	if err != nil {
		return ""
	}
	info, err := sess.Google.FetchUserInfo(ctx, sess.Tokens)
	if err != nil {
		if googlecal.Classify(err) == googlecal.ClassAuth {
			_ = s.Accounts.MarkReauth(ctx, conn, now)
		}
		return ""
	}
	return info.Picture
}
