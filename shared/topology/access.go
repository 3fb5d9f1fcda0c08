package topology

import (
	"fmt"
	"slices"
	"sort"
)

// This file is the one declaration of what each function may touch in Google Cloud: the
// topics it publishes to (its own dead-letter topic included), the secrets it reads, its
// Firestore access and whether anyone on the internet may call it.
//
// Two things are derived from it, so that local and cloud permissions stay equal:
//   - shared/platform scopes each function's clients to its entry: a publish or secret read
//     that is not declared is refused with platform.ErrUndeclared and logged, deployed, in
//     `make run` and in every test stack (the emulators have no IAM, this is their IAM);
//   - scripts/tfcheck reads the Terraform plan and fails when a function's service account
//     lacks a grant declared here or holds one that is not (least privilege both ways).
//
// Changing what a function may do therefore means changing this table and
// terraform/functions.tf together; tf-check fails until both agree.

// FirestoreAccess is what a function may do with Firestore documents. Firestore has no
// per-collection IAM, so this is the whole database.
type FirestoreAccess string

const (
	FirestoreNone      FirestoreAccess = ""
	FirestoreRead      FirestoreAccess = "read"       // roles/datastore.viewer
	FirestoreReadWrite FirestoreAccess = "read-write" // roles/datastore.user
)

// Role is the predefined IAM role granting the access ("" for none).
func (f FirestoreAccess) Role() string {
	switch f {
	case FirestoreRead:
		return "roles/datastore.viewer"
	case FirestoreReadWrite:
		return "roles/datastore.user"
	}
	return ""
}

// Secret ids (Secret Manager; shared/secrets names the same three).
const (
	SecretOAuthClient = "oauth-client-secret"
	SecretState       = "state-key"
	SecretToken       = "token-key"
)

// Access is the declaration of one function.
type Access struct {
	// Function is the entry point (functions-framework name), the key of Functions.
	Function string
	// Folder is functions/<Folder>: the deploy archive, the Terraform key, the Cloud Run
	// service name and the service account fn-<Folder>@.
	Folder string
	// Consumes is the topic delivered to the function by a push subscription ("" for an
	// HTTP function).
	Consumes string
	// Publishes lists every topic the function may publish to. A consumer lists its own
	// dead-letter topic: it copies poison messages there itself (shared/platform).
	Publishes []string
	// Secrets lists the secrets the function may read (any version).
	Secrets []string
	// Firestore is the function's access to the database.
	Firestore FirestoreAccess
	// Public: allUsers may invoke it (browsers, Google's push notifications). A function
	// that is not public is invoked by the booking backend (Manage) or, when it consumes a
	// topic, by the push subscription's identity only.
	Public bool
}

// Functions is the declaration, keyed by entry point.
var Functions = map[string]Access{
	"Manage": {
		Function: "Manage", Folder: "manage",
		// Selection changes and health resyncs (calendar-sync); staff bookings and
		// cancellations (calendar-export).
		Publishes: []string{CalendarSync, CalendarExport},
		Secrets:   []string{SecretOAuthClient, SecretState, SecretToken},
		Firestore: FirestoreReadWrite,
	},
	"OAuthCallback": {
		Function: "OAuthCallback", Folder: "oauthcallback",
		// First sync of each selected calendar; bookings that waited for a connection are
		// exported again when one is made (shared/connect).
		Publishes: []string{CalendarSync, CalendarExport},
		Secrets:   []string{SecretOAuthClient, SecretState, SecretToken},
		Firestore: FirestoreReadWrite,
		Public:    true,
	},
	"CalendarWebhook": {
		Function: "CalendarWebhook", Folder: "calendarwebhook",
		// One read of channels/{id}, then a publish: it never writes.
		Publishes: []string{CalendarSync},
		Firestore: FirestoreRead,
		Public:    true,
	},
	"SyncCalendar": {
		Function: "SyncCalendar", Folder: "synccalendar", Consumes: CalendarSync,
		// Hands a long sync over to a fresh message after MaxLoops (shared/syncer).
		Publishes: []string{CalendarSync, DeadLetter(CalendarSync)},
		Secrets:   []string{SecretOAuthClient, SecretToken},
		Firestore: FirestoreReadWrite,
	},
	"RenewChannels": {
		Function: "RenewChannels", Folder: "renewchannels", Consumes: RenewChannels,
		// The tick fans out per connection (renew-channels), safety-net syncs
		// (calendar-sync) and stalled exports (calendar-export) (shared/renewal).
		Publishes: []string{RenewChannels, CalendarSync, CalendarExport, DeadLetter(RenewChannels)},
		Secrets:   []string{SecretOAuthClient, SecretToken},
		Firestore: FirestoreReadWrite,
	},
	"Slots": {
		Function: "Slots", Folder: "slots",
		Firestore: FirestoreRead,
		Public:    true,
	},
	"Book": {
		Function: "Book", Folder: "book",
		Publishes: []string{CalendarExport},
		Firestore: FirestoreReadWrite,
		Public:    true,
	},
	"ExportBooking": {
		Function: "ExportBooking", Folder: "exportbooking", Consumes: CalendarExport,
		Publishes: []string{DeadLetter(CalendarExport)},
		Secrets:   []string{SecretOAuthClient, SecretToken},
		Firestore: FirestoreReadWrite,
	},
}

// Declared returns the declaration of an entry point.
func Declared(function string) (Access, error) {
	a, ok := Functions[function]
	if !ok {
		return Access{}, fmt.Errorf("function %q has no declaration in shared/topology/access.go", function)
	}
	return a, nil
}

// ByFolder returns the declaration of the function deployed from functions/<folder>.
func ByFolder(folder string) (Access, bool) {
	for _, a := range Functions {
		if a.Folder == folder {
			return a, true
		}
	}
	return Access{}, false
}

// FunctionNames lists the entry points in a stable order.
func FunctionNames() []string {
	out := make([]string, 0, len(Functions))
	for k := range Functions {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MayPublish reports whether the function declared topic.
func (a Access) MayPublish(topic string) bool { return slices.Contains(a.Publishes, topic) }

// MayRead reports whether the function declared secret.
func (a Access) MayRead(secret string) bool { return slices.Contains(a.Secrets, secret) }
