package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// A session is stateless: its cookie holds the API key the operator signed
// in with, when they did and when they last made a request, and the
// session's CSRF token, encrypted and authenticated with AES-GCM under
// the session key. Nothing is stored server-side; every request
// authenticates the key again, so a key removed or given another role
// takes effect at once, and the cookie is of no use without the key that
// seals it.

// sessionAAD binds the sealed cookies to their purpose and format.
const sessionAAD = "notifyd console session v1"

// session is what a session cookie holds.
type session struct {
	Key string `json:"k"`
	// Issued and Seen are unix seconds: sign-in and last request.
	Issued int64 `json:"i"`
	Seen   int64 `json:"s"`
	// CSRF is the token every form of the session carries.
	CSRF string `json:"c"`
	// Lang is the console's language ("" until chosen).
	Lang string `json:"l,omitempty"`

	who Identity
}

// sessions seals and opens session cookies.
type sessions struct {
	aead           cipher.AEAD
	secure         bool
	idle, lifetime time.Duration
}

func newSessions(key []byte, secure bool, idle, lifetime time.Duration) (*sessions, error) {
	if len(key) != 32 {
		return nil, errors.New("console: the session key must be 32 bytes")
	}
	if idle <= 0 || lifetime < idle {
		return nil, errors.New("console: the idle timeout must be positive and the session lifetime at least as long")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sessions{aead: aead, secure: secure, idle: idle, lifetime: lifetime}, nil
}

// cookieName is the session cookie's name: with the __Secure- prefix when
// the cookie is Secure, so that a browser refuses one set over http.
func (s *sessions) cookieName() string {
	if s.secure {
		return "__Secure-notifyd_console"
	}
	return "notifyd_console"
}

// seal writes sess as a cookie value.
func (s *sessions) seal(sess *session) string {
	plain, err := json.Marshal(sess)
	if err != nil {
		panic(err) // strings and numbers only
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(sessionAAD)))
}

// Why a session cookie is not accepted.
var (
	errNoSession = errors.New("no session")
	errExpired   = errors.New("session expired")
)

// open reads a request's session; errNoSession when it has none (or one
// tampered with or sealed under another key), errExpired when it timed
// out.
func (s *sessions) open(r *http.Request, now time.Time) (*session, error) {
	ck, err := r.Cookie(s.cookieName())
	if err != nil {
		return nil, errNoSession
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n {
		return nil, errNoSession
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(sessionAAD))
	if err != nil {
		return nil, errNoSession
	}
	var sess session
	if err := json.Unmarshal(plain, &sess); err != nil || sess.Key == "" || sess.CSRF == "" {
		return nil, errNoSession
	}
	t := now.Unix()
	if t-sess.Seen >= int64(s.idle/time.Second) || t-sess.Issued >= int64(s.lifetime/time.Second) || sess.Seen > t+60 {
		return nil, errExpired
	}
	return &sess, nil
}

// set sends sess's cookie.
func (s *sessions) set(w http.ResponseWriter, sess *session) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: s.seal(sess), Path: Prefix,
		MaxAge: int(s.lifetime / time.Second), Secure: s.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// clear removes the session cookie.
func (s *sessions) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: Prefix, MaxAge: -1,
		Secure: s.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// newToken is a random token for forms.
func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sameToken compares two tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sameSite reports whether a form post comes from the console's own
// pages as the browser says (Fetch Metadata); a client that does not say
// is judged by the form's token alone.
func sameSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// maxForm bounds a form post's body (a bulk action names at most a few
// hundred deliveries).
const maxForm = 256 << 10

// signedIn wraps a page that needs a session: without one, a GET is sent
// to the sign-in page (and back after); a change (write) also needs the
// session's CSRF token and a role that may change things, and is refused
// with 403 otherwise, whatever the page showed.
func (c *Console) signedIn(p page, write bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := c.o.Now()
		sess, err := c.sessions.open(r, now)
		if err == nil {
			who, ok := c.o.Authenticate(sess.Key)
			if !ok {
				err = errNoSession
			}
			sess.who = who
		}
		if err != nil {
			c.sessions.clear(w)
			if r.Method != http.MethodGet {
				c.message(w, r, nil, http.StatusUnauthorized, "err.signedout")
				return
			}
			to := "/console/login?next=" + urlQueryEscape(r.URL.RequestURI())
			if errors.Is(err, errExpired) {
				to += "&expired=1"
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		sess.Seen = now.Unix()
		c.sessions.set(w, sess)
		if write {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				c.message(w, r, sess, http.StatusBadRequest, "err.form")
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), sess.CSRF) || !sameSite(r) {
				c.log.Warn("console: form refused: missing or wrong CSRF token, or posted from another site",
					"actor", sess.who.Name, "path", r.URL.Path, "remote", r.RemoteAddr)
				c.message(w, r, sess, http.StatusForbidden, "err.csrf")
				return
			}
			if !sess.who.CanChange() && r.URL.Path != "/console/logout" {
				c.log.Warn("console: change refused to a viewer", "actor", sess.who.Name, "path", r.URL.Path)
				c.message(w, r, sess, http.StatusForbidden, "err.viewer")
				return
			}
		}
		p(w, r, sess)
	}
}

// loginCookie is the pre-session cookie whose value the sign-in form
// must carry (double submit): a sign-in posted from another site has
// neither.
const loginCookie = "notifyd_console_login"

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.showLogin(w, r, http.StatusOK, "")
}

// showLogin answers the sign-in page with a notice key ("" for none).
func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, notice string) {
	token := newToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: token, Path: Prefix, MaxAge: 3600,
		Secure: c.sessions.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	if notice == "" && r.URL.Query().Get("expired") != "" {
		notice = "login.expired"
	}
	if notice == "" && r.URL.Query().Get("out") != "" {
		notice = "login.out"
	}
	v := c.view(r, nil, "login.title")
	v.CSRF = token
	v.Next = safeNext(r.FormValue("next"))
	if notice != "" {
		v.Notice = v.T(notice)
		v.NoticeError = notice == "login.refused" || notice == "err.csrf"
	}
	c.render(w, status, "login.html", v)
}

// login takes the sign-in form: an API key, checked by Authenticate. The
// key is never logged; a refusal is logged with the client's address.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		c.message(w, r, nil, http.StatusBadRequest, "err.form")
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), ck.Value) || !sameSite(r) {
		c.log.Warn("console: sign-in form refused: missing or wrong CSRF token", "remote", r.RemoteAddr)
		c.showLogin(w, r, http.StatusForbidden, "err.csrf")
		return
	}
	key := r.PostForm.Get("key")
	who, ok := c.o.Authenticate(key)
	if key == "" || !ok {
		c.log.Warn("console: sign-in refused: not a valid API key", "remote", r.RemoteAddr)
		c.showLogin(w, r, http.StatusUnauthorized, "login.refused")
		return
	}
	now := c.o.Now().Unix()
	lang := ""
	if l, err := r.Cookie(langCookie); err == nil {
		lang = baseLang(l.Value)
	}
	c.sessions.set(w, &session{Key: key, Issued: now, Seen: now, CSRF: newToken(), Lang: lang})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: Prefix, MaxAge: -1})
	c.log.Info("console: signed in", "actor", who.Name, "role", string(who.Role), "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.clear(w)
	c.log.Info("console: signed out", "actor", s.who.Name)
	http.Redirect(w, r, "/console/login?out=1", http.StatusSeeOther)
}

// safeNext is where to go after signing in: a console path, never
// another site.
func safeNext(next string) string {
	if len(next) > 1 && next[0] == '/' && next[1] != '/' && next[1] != '\\' && len(next) >= len(Prefix) && next[:len(Prefix)] == Prefix {
		return next
	}
	return Prefix
}

// langCookie keeps the language chosen before signing in.
const langCookie = "notifyd_console_lang"

// setLang switches the console's language and goes back.
func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	lang := baseLang(r.PathValue("lang"))
	if lang == "" {
		lang = "en"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: Prefix, MaxAge: 365 * 24 * 3600,
		Secure: c.sessions.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if sess, err := c.sessions.open(r, c.o.Now()); err == nil {
		if _, ok := c.o.Authenticate(sess.Key); ok {
			sess.Lang = lang
			c.sessions.set(w, sess)
		}
	}
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}
