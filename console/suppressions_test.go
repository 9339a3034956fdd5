package console

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd"
	"github.com/notifyd/notifyd/store"
)

// suppressionAudit is the audit trail of the suppression list: "action
// resource by actor (kind)", oldest first.
func (h *harness) suppressionAudit() []string {
	h.t.Helper()
	entries, err := h.db.AuditEntries(context.Background(), store.AuditFilter{Limit: 100})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.ResourceType == store.AuditSuppression {
			out = append(out, e.Action+" "+e.ResourceID+" by "+e.Actor.Name+" ("+e.Actor.Kind+")")
		}
	}
	return out
}

// suppressed is the list's entry of channel's address, nil for none.
func (h *harness) suppressed(channel, address string) *store.Suppression {
	h.t.Helper()
	s, err := h.db.Suppressed(context.Background(), channel, address)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// follow gets the page a 303 sends to.
func (b *browser) follow(r response) response {
	b.h.t.Helper()
	if r.StatusCode != http.StatusSeeOther {
		b.h.t.Fatalf("want a redirect, got %d\n%s", r.StatusCode, r.Body)
	}
	return b.get(r.Header.Get("Location"))
}

// An operator adds an address with a note (spelled in capitals: the
// list keeps it in lower case), sees it listed with the reason, the note
// and their name, adds it again (nothing changes), and removes it through
// a confirmation that says what removing means. The store agrees at each
// step, and the audit trail has each change as the API records it: by
// the key's name.
func TestSuppressionsAddAndRemove(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	token := b.signIn(opsKey)
	list := b.get("/console/suppressions")
	if list.StatusCode != http.StatusOK || !strings.Contains(list.Body, `id="none"`) || !strings.Contains(list.Body, `id="add-form"`) ||
		!strings.Contains(list.Body, `href="/console/suppressions" aria-current="page"`) {
		t.Fatalf("the empty list: %d\n%s", list.StatusCode, list.Body)
	}
	add := url.Values{"csrf": {token}, "action": {"add"}, "channel": {"email"}, "address": {" Wilma@Example.org "},
		"note": {"asked by phone to get no more email"}}
	added := b.do(http.MethodPost, "/console/suppressions", add)
	if loc := added.Header.Get("Location"); added.StatusCode != http.StatusSeeOther ||
		loc != "/console/suppressions?channel=email&done=added&q=wilma%40example.org" {
		t.Fatalf("add: %d %q\n%s", added.StatusCode, loc, added.Body)
	}
	s := h.suppressed("email", "wilma@example.org")
	if s == nil || s.Reason != store.SuppressManual || s.Detail != "asked by phone to get no more email" || s.Actor.Name != "ops" {
		t.Fatalf("stored: %+v", s)
	}
	page := b.follow(added)
	row := regexp.MustCompile(`(?s)<tr id="entry-` + s.ID + `">.*?</tr>`).FindString(page.Body)
	for _, want := range []string{">wilma@example.org<", ">Manual<", "asked by phone to get no more email", ">ops<",
		`value="remove"`, `href="/console/deliveries?address=wilma%40example.org&amp;channel=email"`} {
		if !strings.Contains(row, want) {
			t.Errorf("the entry's row lacks %q:\n%s", want, row)
		}
	}
	if !strings.Contains(page.Body, "Added: notifyd will send nothing to this address.") {
		t.Errorf("no notice after adding")
	}

	// Again, otherwise spelled: the entry there stays, nothing changes.
	add.Set("address", "wilma@example.org")
	add.Set("note", "twice")
	if r := b.do(http.MethodPost, "/console/suppressions", add); !strings.Contains(r.Header.Get("Location"), "done=exists") ||
		!strings.Contains(b.follow(r).Body, "was on the list already") {
		t.Errorf("adding again: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if again := h.suppressed("email", "wilma@example.org"); again.ID != s.ID || again.Detail != s.Detail {
		t.Errorf("adding again changed the entry: %+v", again)
	}

	// Removing asks first, saying what it means; nothing is removed yet.
	back := "/console/suppressions?reason=manual"
	remove := url.Values{"csrf": {token}, "action": {"remove"}, "channel": {"email"}, "address": {"wilma@example.org"}, "back": {back}}
	ask := b.do(http.MethodPost, "/console/suppressions", remove)
	for _, want := range []string{"Remove this address from the suppression list?", "notifyd will send to this address again",
		"An operator put it on the list", `name="confirm" value="yes"`, `<a href="/console/suppressions?reason=manual">Cancel</a>`} {
		if !strings.Contains(ask.Body, want) {
			t.Errorf("the confirmation lacks %q", want)
		}
	}
	if ask.StatusCode != http.StatusOK || h.suppressed("email", "wilma@example.org") == nil {
		t.Fatalf("asking removed it: %d", ask.StatusCode)
	}
	remove.Set("confirm", "yes")
	done := b.do(http.MethodPost, "/console/suppressions", remove)
	if loc := done.Header.Get("Location"); loc != "/console/suppressions?done=removed&reason=manual" {
		t.Errorf("after removing: %d %q", done.StatusCode, loc)
	}
	if h.suppressed("email", "wilma@example.org") != nil {
		t.Fatal("still suppressed after the confirmed removal")
	}
	if r := b.follow(done); !strings.Contains(r.Body, "Removed: notifyd will send to this address again.") || !strings.Contains(r.Body, `id="none"`) {
		t.Errorf("the list after removing:\n%s", r.Body)
	}
	// Removed meanwhile (a second tab): said, nothing changes.
	if r := b.do(http.MethodPost, "/console/suppressions", remove); !strings.Contains(b.follow(r).Body, "is not on the list (any more)") {
		t.Errorf("removing twice: %s", r.Header.Get("Location"))
	}
	delete(remove, "confirm")
	if r := b.do(http.MethodPost, "/console/suppressions", remove); !strings.Contains(r.Header.Get("Location"), "done=missing") {
		t.Errorf("asking to remove an address not listed: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	want := "suppression.added email:wilma@example.org by ops (api_key)|suppression.removed email:wilma@example.org by ops (api_key)"
	if got := strings.Join(h.suppressionAudit(), "|"); got != want {
		t.Errorf("audit:\n%s\nwant\n%s", got, want)
	}
}

// The add form checks the address as the API does and says what is
// wrong, in the console's language, keeping what was typed; nothing is
// added. A phone number is added on the SMS channel.
func TestSuppressionsAddValidation(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	token := b.signIn(adminKey)
	for _, c := range []struct{ channel, address, want string }{
		{"email", "Wilma Flintstone <wilma@example.org>", "must be a bare email address such as wilma@example.org"},
		{"email", "", "must be a bare email address"},
		{"sms", "0612345678", "must be an E.164 phone number such as +14155550100"},
		{"im", "wilma@example.org", "Only email addresses and SMS numbers"},
	} {
		r := b.do(http.MethodPost, "/console/suppressions", url.Values{"csrf": {token}, "action": {"add"}, "channel": {c.channel},
			"address": {c.address}, "note": {"my note"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="add-errors"`) || !strings.Contains(html.UnescapeString(r.Body), c.want) ||
			!strings.Contains(r.Body, `aria-invalid="true"`) || !strings.Contains(r.Body, ">my note</textarea>") {
			t.Errorf("%s %q: %d\n%s", c.channel, c.address, r.StatusCode, r.Body)
		}
		if c.address != "" && !strings.Contains(html.UnescapeString(r.Body), `value="`+c.address+`"`) {
			t.Errorf("%s %q: the form lost the address", c.channel, c.address)
		}
	}
	fr := h.browser()
	frToken := fr.signIn(adminKey)
	fr.get("/console/lang/fr")
	if r := fr.do(http.MethodPost, "/console/suppressions", url.Values{"csrf": {frToken}, "action": {"add"}, "channel": {"sms"},
		"address": {"06 12"}}); !strings.Contains(r.Body, "doit être un numéro de téléphone E.164") {
		t.Errorf("the French form's error:\n%s", r.Body)
	}
	if entries, err := h.db.Suppressions(t.Context(), store.SuppressionFilter{}); err != nil || len(entries) != 0 {
		t.Fatalf("a refused form added %v (%v)", entries, err)
	}
	r := b.do(http.MethodPost, "/console/suppressions", url.Values{"csrf": {token}, "action": {"add"}, "channel": {"sms"},
		"address": {"+33612345678"}})
	if s := h.suppressed("sms", "+33612345678"); r.StatusCode != http.StatusSeeOther || s == nil || s.Actor.Name != "admin" {
		t.Errorf("adding a number: %d %+v", r.StatusCode, s)
	}
	if r := b.do(http.MethodPost, "/console/suppressions", url.Values{"csrf": {token}, "action": {"drop"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown action: %d", r.StatusCode)
	}
}

// The list is newest first, in pages of 50 with the delivery search's
// cursor; it is searched by a whole address or number (its entry only),
// by the beginning of one, and filtered by channel and reason.
func TestSuppressionsPagingAndSearch(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	start := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range 120 {
		s := store.Suppression{Channel: notifyd.ChannelEmail, Address: fmt.Sprintf("u%03d@example.org", i),
			Reason: store.SuppressHardBounce, Detail: "550 5.1.1 user unknown", CreatedAt: start.Add(time.Duration(i) * time.Minute)}
		switch {
		case i%10 == 3:
			s.Channel, s.Address, s.Reason = notifyd.ChannelSMS, fmt.Sprintf("+33612000%03d", i), store.SuppressStop
		case i == 7:
			s.Reason = store.SuppressComplaint
		}
		if _, _, err := h.db.AddSuppression(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	b := h.browser()
	b.signIn(viewerKey)
	entries := regexp.MustCompile(`<span class="address">([^<]+)</span>`)
	addresses := func(r response) []string {
		var out []string
		for _, m := range entries.FindAllStringSubmatch(r.Body, -1) {
			out = append(out, html.UnescapeString(m[1]))
		}
		return out
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	var all []string
	path := "/console/suppressions"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("more than three pages")
		}
		r := b.get(path)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.StatusCode)
		}
		got := addresses(r)
		if len(got) != min(50, 120-len(all)) {
			t.Errorf("page %d has %d entries", pages+1, len(got))
		}
		if pages > 0 && !strings.Contains(r.Body, `<a href="/console/suppressions">Newest</a>`) {
			t.Errorf("page %d has no link to the first", pages+1)
		}
		all = append(all, got...)
		path = ""
		if m := next.FindStringSubmatch(r.Body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(all) != 120 || all[0] != "u119@example.org" || all[1] != "u118@example.org" || all[119] != "u000@example.org" {
		t.Errorf("the pages list %d entries, from %v", len(all), all[:min(3, len(all))])
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"q=U042@example.org", []string{"u042@example.org"}},
		{"q=u04", []string{"u049@example.org", "u048@example.org", "u047@example.org", "u046@example.org", "u045@example.org",
			"u044@example.org", "u042@example.org", "u041@example.org", "u040@example.org"}},
		{"q=u04&reason=complaint", nil},
		{"q=%2B33612000013", []string{"+33612000013"}},
		{"q=%2B3361200001", []string{"+33612000013"}},
		{"q=%2B336120001", []string{"+33612000113", "+33612000103"}},
		{"reason=complaint", []string{"u007@example.org"}},
		{"channel=sms&q=%2B336120000", []string{"+33612000093", "+33612000083", "+33612000073", "+33612000063",
			"+33612000053", "+33612000043", "+33612000033", "+33612000023", "+33612000013", "+33612000003"}},
		{"channel=email&q=%2B33", nil},
		{"q=nobody@example.org", nil},
	} {
		r := b.get("/console/suppressions?" + c.query)
		if got := addresses(r); r.StatusCode != http.StatusOK || strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: %d %v, want %v", c.query, r.StatusCode, got, c.want)
		}
	}
	if r := b.get("/console/suppressions?reason=complaint"); !strings.Contains(r.Body, `<option value="complaint" selected>Spam complaint</option>`) {
		t.Errorf("the reason filter is not shown chosen")
	}
	if r := b.get("/console/suppressions?q=u04"); !strings.Contains(r.Body, "beginning with <q>u04</q>") {
		t.Errorf("a search by prefix does not say so")
	}
	if r := b.get("/console/suppressions?q=u000@example.org"); !strings.Contains(r.Body,
		`href="/console/deliveries?address=u000%40example.org&amp;channel=email&amp;status=bounced" class="deliveries">The bounced deliveries`) {
		t.Errorf("a hard bounce's entry does not link its bounced deliveries:\n%s", r.Body)
	}
}

// A viewer sees the list without the add form or the remove buttons, and
// the server refuses the changes it crafts (403). A key scoped to a
// system neither sees the list (no link, 403) nor changes it, as in the
// API. Every change needs the session's form token.
func TestSuppressionsRolesAndScope(t *testing.T) {
	h := newHarness(t)
	if _, _, err := h.db.AddSuppression(t.Context(), store.Suppression{Channel: notifyd.ChannelEmail, Address: "fred@example.org",
		Reason: store.SuppressHardBounce}); err != nil {
		t.Fatal(err)
	}
	changes := func(token string) []url.Values {
		return []url.Values{
			{"csrf": {token}, "action": {"add"}, "channel": {"email"}, "address": {"barney@example.org"}},
			{"csrf": {token}, "action": {"remove"}, "channel": {"email"}, "address": {"fred@example.org"}},
			{"csrf": {token}, "action": {"remove"}, "channel": {"email"}, "address": {"fred@example.org"}, "confirm": {"yes"}},
		}
	}
	unchanged := func(who string) {
		t.Helper()
		if h.suppressed("email", "fred@example.org") == nil || h.suppressed("email", "barney@example.org") != nil {
			t.Fatalf("%s changed the list", who)
		}
	}

	viewer := h.browser()
	token := viewer.signIn(viewerKey)
	r := viewer.get("/console/suppressions")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "fred@example.org") || strings.Contains(r.Body, `id="add-form"`) ||
		strings.Contains(r.Body, `value="remove"`) || !strings.Contains(r.Body, `href="/console/suppressions"`) {
		t.Errorf("the viewer's list: %d\n%s", r.StatusCode, r.Body)
	}
	for _, form := range changes(token) {
		if r := viewer.do(http.MethodPost, "/console/suppressions", form); r.StatusCode != http.StatusForbidden {
			t.Errorf("viewer %v: %d", form, r.StatusCode)
		}
	}
	unchanged("the viewer")

	scoped := h.browser()
	token = scoped.signIn(operatorKey)
	if r := scoped.get("/console/deliveries"); strings.Contains(r.Body, `href="/console/suppressions"`) {
		t.Errorf("a scoped key is offered the suppression list")
	}
	if r := scoped.get("/console/suppressions?q=fred@example.org"); r.StatusCode != http.StatusForbidden ||
		strings.Contains(r.Body, "fred@example.org") || !strings.Contains(r.Body, "belongs to no one system") {
		t.Errorf("a scoped key's list: %d\n%s", r.StatusCode, r.Body)
	}
	for _, form := range changes(token) {
		if r := scoped.do(http.MethodPost, "/console/suppressions", form); r.StatusCode != http.StatusForbidden {
			t.Errorf("scoped %v: %d", form, r.StatusCode)
		}
	}
	unchanged("a scoped operator")

	ops := h.browser()
	token = ops.signIn(opsKey)
	for _, form := range changes(token) {
		for _, bad := range []string{"", "0" + token[1:]} {
			if bad == token {
				continue
			}
			form.Set("csrf", bad)
			if r := ops.do(http.MethodPost, "/console/suppressions", form); r.StatusCode != http.StatusForbidden {
				t.Errorf("ops without the form's token %v: %d", form, r.StatusCode)
			}
		}
		form.Set("csrf", token)
		if r := ops.do(http.MethodPost, "/console/suppressions", form, "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden {
			t.Errorf("ops from another site %v: %d", form, r.StatusCode)
		}
	}
	unchanged("a forged form")
	if got := h.suppressionAudit(); len(got) != 1 {
		t.Errorf("audit of refused changes: %v", got)
	}
}

// A bounced delivery's page links the suppression list's entry of its
// address (and says so once the entry is removed), for an identity that
// may see the list; the entry links back to the bounced delivery.
func TestDeliveryLinksItsSuppression(t *testing.T) {
	h := newHarness(t)
	if _, err := h.db.RecordBounce(t.Context(), store.Bounce{DeliveryID: h.wilmaSent, Hard: true,
		Detail: "5.1.1 550 user unknown", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	token := b.signIn(opsKey)
	d := b.get("/console/deliveries/" + h.wilmaSent)
	entry := regexp.MustCompile(`(?s)<dd id="suppression">.*?</dd>`).FindString(d.Body)
	if !strings.Contains(entry, "Hard bounce") || !strings.Contains(entry, `href="/console/suppressions?channel=email&amp;q=wilma%40example.org"`) {
		t.Fatalf("the bounced delivery's suppression: %q", entry)
	}
	if f := b.get("/console/deliveries/" + h.wilmaFailed); strings.Contains(f.Body, `id="suppression"`) {
		t.Errorf("a failed delivery's page speaks of the suppression list")
	}
	list := b.get("/console/suppressions?channel=email&q=wilma%40example.org")
	link := regexp.MustCompile(`href="(/console/deliveries\?[^"]+)" class="deliveries"`).FindStringSubmatch(list.Body)
	if link == nil {
		t.Fatalf("the entry has no link to its deliveries:\n%s", list.Body)
	}
	if r := b.get(strings.ReplaceAll(link[1], "&amp;", "&")); !strings.Contains(r.Body, "/console/deliveries/"+h.wilmaSent) ||
		strings.Contains(r.Body, "/console/deliveries/"+h.wilmaFailed+`"`) {
		t.Errorf("the entry's link does not find the bounced delivery alone:\n%s", r.Body)
	}
	if !strings.Contains(list.Body, `href="/console/deliveries/`+h.wilmaSent+`" class="cause"`) {
		t.Errorf("the entry does not link the delivery that bounced:\n%s", list.Body)
	}
	scoped := h.browser()
	scoped.signIn(operatorKey)
	if r := scoped.get("/console/deliveries/" + h.wilmaSent); r.StatusCode != http.StatusOK || strings.Contains(r.Body, `id="suppression"`) {
		t.Errorf("a scoped key's delivery page speaks of the suppression list: %d", r.StatusCode)
	}
	b.do(http.MethodPost, "/console/suppressions", url.Values{"csrf": {token}, "action": {"remove"}, "confirm": {"yes"},
		"channel": {"email"}, "address": {"wilma@example.org"}})
	d = b.get("/console/deliveries/" + h.wilmaSent)
	if entry := regexp.MustCompile(`(?s)<dd id="suppression">.*?</dd>`).FindString(d.Body); !strings.Contains(entry, "not on the list any more") {
		t.Errorf("after the removal the delivery's page says %q", entry)
	}
}

// Every text is in English and French, every suppression reason has its
// name and its warning, and every key a template names has a text.
func TestTextsInEveryLanguage(t *testing.T) {
	for _, l := range langs {
		for _, other := range langs {
			for k := range texts[other] {
				if _, ok := texts[l][k]; !ok {
					t.Errorf("%s lacks %q", l, k)
				}
			}
		}
		for _, reason := range store.SuppressionReasons {
			for _, k := range []string{"reason." + reason, "supp.warn." + reason} {
				if _, ok := texts[l][k]; !ok {
					t.Errorf("%s lacks %q", l, k)
				}
			}
		}
	}
	used := regexp.MustCompile(`\.T "([^"]+)"`)
	pages, err := files.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		b, err := files.ReadFile("templates/" + p.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if _, ok := texts["en"][m[1]]; !ok {
				t.Errorf("%s names %q, which has no text", p.Name(), m[1])
			}
		}
	}
}
