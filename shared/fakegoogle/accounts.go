package fakegoogle

// Google accounts of the fake.

import (
	"strings"
)

type account struct {
	Sub, Email, Name, Picture string
}

// Account is a Google account of the fake.
type Account struct {
	Sub     string `json:"sub"`
	Email   string `json:"email"`
	Name    string `json:"name"`
	Picture string `json:"picture"`
}

// CreateAccount adds an account (sub and picture are generated when empty).
func (s *Server) CreateAccount(a Account) (Account, error) {
	a.Email = strings.TrimSpace(a.Email)
	if a.Email == "" || !strings.Contains(a.Email, "@") || len(a.Email) > maxAccountFieldLen {
		return Account{}, ctlErr(400, "invalid_email", "email must be an e-mail address")
	}
	if len(a.Name) > maxAccountFieldLen || len(a.Sub) > maxAccountFieldLen || len(a.Picture) > maxAccountFieldLen {
		return Account{}, ctlErr(400, "field_too_long", "fields must be at most 512 characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(a.Email)
	if _, ok := s.accounts[key]; ok {
		return Account{}, ctlErr(409, "account_exists", "an account with this e-mail exists")
	}
	if a.Sub == "" {
		a.Sub = "1" + randomString(20, "0123456789")
	}
	for _, o := range s.accounts {
		if o.Sub == a.Sub {
			return Account{}, ctlErr(409, "sub_exists", "an account with this sub exists")
		}
	}
	if a.Name == "" {
		a.Name = strings.SplitN(a.Email, "@", 2)[0]
	}
	if a.Picture == "" {
		a.Picture = defaultPictureHost + "fake-" + a.Sub + "=s96-c"
	}
	s.accounts[key] = &account{Sub: a.Sub, Email: a.Email, Name: a.Name, Picture: a.Picture}
	s.accountOrder = append(s.accountOrder, key)
	return a, nil
}

// Accounts lists the accounts in creation order.
func (s *Server) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Account{}
	for _, k := range s.accountOrder {
		a := s.accounts[k]
		out = append(out, Account{Sub: a.Sub, Email: a.Email, Name: a.Name, Picture: a.Picture})
	}
	return out
}
