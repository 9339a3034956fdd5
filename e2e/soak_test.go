package e2e

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/peertest"
)

// soakEnv gives the soak's duration (a Go duration: 30m, 2h).
const soakEnv = "NOTIFYD_SOAK"

// Soak load and fault pacing.
const (
	soakUsers       = 100
	soakWaveUsers   = 20              // principals with a new notification per wave
	soakPoisonUsers = 5               // principals kept for poison notifications
	soakWaveEvery   = 5 * time.Second // a wave this often: 4 notifications a second
	soakSampleEvery = 5 * time.Second // notifyd's memory and goroutines
	soakSettle      = 10 * time.Minute
)

// TestSoak runs notifyd against the real peers for NOTIFYD_SOAK (make
// soak) at a steady load (a wave of 20 notifications every 5 s, for 100
// principals subscribed by email, a quarter also by SMS, a fifth also by
// instant message), with a random fault every 30 to 90 s from the fault
// suite's list. It then reconciles everything Cyrus produced, and
// compares notifyd's resident memory and goroutines at the start and at
// the end of the load (same process: SIGKILLs only happen in the first
// half, and the start is sampled after a warm-up).
func TestSoak(t *testing.T) {
	spec := os.Getenv(soakEnv)
	if spec == "" {
		t.Skip("SOAK NOT RUN: it runs only when " + soakEnv + " gives its duration, e.g. " + soakEnv + "=30m (make soak)")
	}
	duration, err := time.ParseDuration(spec)
	if err != nil || duration < time.Minute {
		t.Fatalf("%s=%q: want a Go duration of at least 1m (30m, 2h)", soakEnv, spec)
	}
	s := newSoak(t)
	s.run(duration)
	s.finish()
}

// soak is the soak's world and bookkeeping.
type soak struct {
	t       *testing.T
	r       *faultRig
	sink    *peertest.SMTP
	twilio  *peertest.FaultProxy
	dav     *peertest.FaultProxy // in front of Cyrus, to poison notifications
	prosody *peertest.Prosody
	ims     []*peertest.XMPPUser
	data    string // notifyd's data directory on its own tmpfs; "" if not root

	// cyrus is held for reading while a wave is produced, for writing
	// while Cyrus is down.
	cyrus sync.RWMutex

	mu         sync.Mutex
	poison     map[string]string // href -> what is wrong with it
	poisonNext []string          // for the next waves
	faults     map[string]int
	inFlight   int // faults that may repeat the messages in flight
	samples    []soakSample
}

// soakSample is notifyd's resident memory and goroutines at one time.
type soakSample struct {
	at, started time.Time
	rss         float64
	goroutines  float64
}

func newSoak(t *testing.T) *soak {
	s := &soak{t: t, faults: map[string]int{}, poison: map[string]string{}}
	s.sink = peertest.StartSMTP(t)
	prism := peertest.StartPrism(t)
	s.twilio = peertest.StartFaultProxy(t, prism.URL)
	methods := func(u string, i int) []method {
		ms := []method{{"email", u + "@example.org"}}
		if i%4 == 0 {
			ms = append(ms, method{"sms", smsNumber(i)})
		}
		if i%5 == 0 {
			ms = append(ms, method{"im", imAddress(u)})
		}
		return ms
	}
	s.r = newFaultRig(t, rigOptions{tag: "soak", users: soakUsers, methods: methods, presence: "store",
		caldav: func(cyrus string) string {
			s.dav = peertest.StartFaultProxy(t, cyrus)
			s.dav.SetFaults(s.poisoned)
			return s.dav.URL
		},
		prepare: func(in *instance) {
			if os.Geteuid() != 0 {
				t.Log("SOAK WITHOUT DISK FAULTS: a tmpfs for notifyd's database needs root")
				return
			}
			s.data = filepath.Join(in.dir, "data")
			mountTmpfs(t, s.data, "512m")
		}})
	var imUsers []string
	for i, u := range s.r.users {
		if i%5 == 0 {
			imUsers = append(imUsers, u)
		}
	}
	s.prosody = peertest.StartProsody(t, append([]string{"notifyd"}, imUsers...)...)
	s.r.o.channels = smtpChannel(t, s.sink) + "\n" + twilioChannel(s.twilio) + "\n" + xmppChannel(s.prosody)
	for _, u := range imUsers {
		s.ims = append(s.ims, s.prosody.Login(t, u))
	}
	s.r.start(emailReceiver(s.sink), smsReceiver(s.twilio), imReceiver(s.ims))
	return s
}

// run loads notifyd and injects faults for d, sampling its memory and
// goroutines, then stops the load.
func (s *soak) run(d time.Duration) {
	t, r := s.t, s.r
	start := time.Now()
	end := start.Add(d)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.produce(stop) }()
	go func() { defer wg.Done(); s.sample(stop) }()
	t.Logf("soak: %s of load and faults, until %s", d, end.Format(time.TimeOnly))
	// The sleeps below are the soak's schedule (a fault every 30 to 90 s,
	// then a quiet minute), not waits for something to happen: no
	// assertion depends on how long they last.
	for {
		gap := time.Duration(float64(30*time.Second) + r.random()*float64(60*time.Second))
		if time.Until(end) < gap+time.Minute {
			break // the last minute is quiet
		}
		time.Sleep(gap)
		s.fault(time.Since(start) < d/2)
	}
	time.Sleep(time.Until(end))
	close(stop)
	wg.Wait()
}

// produce makes a wave of notifications for random principals every
// soakWaveEvery until stop, and pings notifyd about them.
func (s *soak) produce(stop chan struct{}) {
	r := s.r
	tick := time.NewTicker(soakWaveEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		users := slices.Clone(r.users[:soakUsers-soakPoisonUsers])
		for i := range soakWaveUsers {
			j := i + int(r.random()*float64(len(users)-i))
			users[i], users[j] = users[j], users[i]
		}
		users = users[:soakWaveUsers]
		s.cyrus.RLock()
		r.produce(s.t, users)
		s.cyrus.RUnlock()
		r.ping(s.t, users)
		s.poisonWaves()
	}
}

// poisonWaves produce one poison notification for each poison fault
// pending, each for the next of the principals kept for that (no other
// wave names them, so no sync of theirs is under way that could fetch
// the notification before it is poisoned), and ping notifyd about it.
func (s *soak) poisonWaves() {
	for {
		s.mu.Lock()
		if len(s.poisonNext) == 0 {
			s.mu.Unlock()
			return
		}
		what := s.poisonNext[0]
		s.poisonNext = s.poisonNext[1:]
		user := s.r.users[soakUsers-soakPoisonUsers+len(s.poison)%soakPoisonUsers]
		s.mu.Unlock()
		s.cyrus.RLock()
		cal := s.r.produce(s.t, []string{user})
		s.cyrus.RUnlock()
		href := s.r.setAside(noticeKey{user, cal})
		s.mu.Lock()
		s.poison[href] = what
		s.mu.Unlock()
		s.r.ping(s.t, []string{user})
	}
}

// poisoned serves the poison notifications' bodies (the dav proxy's
// faults).
func (s *soak) poisoned(req *http.Request, _ url.Values) peertest.Fault {
	if req.Method != http.MethodGet {
		return peertest.Fault{}
	}
	s.mu.Lock()
	what := s.poison[req.URL.Path]
	s.mu.Unlock()
	switch what {
	case "not XML":
		return peertest.Fault{Replace: []byte("not XML at all\n")}
	case "50 MB":
		return peertest.Fault{BodyBytes: 50 << 20}
	}
	return peertest.Fault{}
}

// sample records notifyd's resident memory and goroutines until stop.
func (s *soak) sample(stop chan struct{}) {
	tick := time.NewTicker(soakSampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		m, err := scrape(s.r.nd.baseURL)
		if err != nil {
			continue // being restarted
		}
		smp := soakSample{at: time.Now(), rss: m["process_resident_memory_bytes"], goroutines: m["go_goroutines"],
			started: time.Unix(int64(m["process_start_time_seconds"]), 0)}
		s.mu.Lock()
		s.samples = append(s.samples, smp)
		s.mu.Unlock()
	}
}

// fault injects one random fault from the suite's list, and waits for its
// end (kill: only when mayKill).
func (s *soak) fault(mayKill bool) {
	t, r := s.t, s.r
	kinds := []string{"cyrus down", "smtp down", "smtp refusals", "twilio 429/500", "prosody restart", "poison"}
	if mayKill {
		kinds = append(kinds, "sigkill", "sigkill")
	}
	if s.data != "" {
		kinds = append(kinds, "disk full")
	}
	kind := kinds[int(r.random()*float64(len(kinds)))]
	began := time.Now()
	switch kind {
	case "sigkill":
		r.kill()
		s.mu.Lock()
		s.inFlight++
		s.mu.Unlock()
	case "cyrus down":
		s.cyrus.Lock()
		r.cy.Stop(t)
		r.sleep(10*time.Second, 30*time.Second)
		r.cy.Start(t)
		s.cyrus.Unlock()
	case "smtp down":
		s.sink.Stop(t)
		r.sleep(5*time.Second, 20*time.Second)
		s.sink.Start(t)
		s.mu.Lock()
		s.inFlight++
		s.mu.Unlock()
	case "smtp refusals":
		s.sink.SetRules(t, peertest.Rules{RandomTempFail: 0.3, Seed: int64(r.random() * (1 << 62))})
		r.sleep(30*time.Second, 60*time.Second)
		s.sink.SetRules(t, peertest.Rules{})
	case "twilio 429/500":
		s.twilio.SetFaults(twilioFaults(r, 0.25, 0.15))
		r.sleep(30*time.Second, 60*time.Second)
		s.twilio.SetFaults(nil)
	case "prosody restart":
		s.prosody.Stop(t)
		r.sleep(time.Second, 3*time.Second)
		s.prosody.Start(t)
		for _, u := range s.ims {
			u.Reconnect(t, 30*time.Second)
		}
		s.mu.Lock()
		s.inFlight++
		s.mu.Unlock()
	case "disk full":
		filler := fillDisk(t, s.data)
		r.sleep(5*time.Second, 15*time.Second)
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	case "poison":
		s.mu.Lock()
		s.poisonNext = append(s.poisonNext, "not XML", "50 MB")
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.faults[kind]++
	s.mu.Unlock()
	t.Logf("soak: fault %q (%s)", kind, time.Since(began).Round(time.Second))
}

// finish waits for notifyd to deliver everything, reconciles, and
// reports the soak's figures.
func (s *soak) finish() {
	t, r := s.t, s.r
	start, end := s.memoryWindow()
	tl := r.settle(t, soakSettle)
	bound := s.inFlight * faultDeliveryWorkers
	r.check(t, tl, bound)
	for href, what := range s.poison {
		var status string
		if err := r.nd.db().QueryRow(`SELECT status FROM notifications WHERE href = $1`, href).Scan(&status); err != nil || status != "dead" {
			t.Errorf("poison notification (%s) %s: status %q (%v), want dead", what, href, status, err)
		}
	}
	var faults []string
	for k, n := range s.faults {
		faults = append(faults, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(faults)
	if len(faults) == 0 {
		faults = []string{"none"}
	}
	t.Logf("soak: faults: %s", strings.Join(faults, ", "))
	t.Logf("soak: notifications produced %d (+%d poison, set aside), messages due %d: delivered %d, dead-lettered %d, duplicated %d (allowed in flight: %d), missing %d, unexpected %d",
		tl.produced, len(s.poison), tl.targets, tl.delivered, tl.deadLettered, tl.duplicates, bound, len(tl.missing), len(tl.unexpected))
	t.Logf("soak: notifyd resident memory %.1f MiB at the start (%s), %.1f MiB at the end (%+.1f%%); goroutines %.0f → %.0f (%+.1f%%); same process since %s",
		start.rss/(1<<20), start.at.Format(time.TimeOnly), end.rss/(1<<20), growth(start.rss, end.rss),
		start.goroutines, end.goroutines, growth(start.goroutines, end.goroutines), end.started.Format(time.TimeOnly))
	if growth(start.rss, end.rss) > 10 {
		t.Errorf("notifyd's resident memory grew %.1f%% over the soak, more than 10%%", growth(start.rss, end.rss))
	}
	if growth(start.goroutines, end.goroutines) > 10 {
		t.Errorf("notifyd's goroutines grew %.1f%% over the soak, more than 10%%", growth(start.goroutines, end.goroutines))
	}
}

// memoryWindow returns notifyd's memory and goroutines at the start and
// at the end of the load, for the process that ran at the end: the start
// is the median of the first minute after a warm-up (a tenth of its run,
// at most 2 minutes), the end the median of the last minute.
func (s *soak) memoryWindow() (start, end soakSample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		s.t.Fatal("no sample of notifyd's metrics")
	}
	last := s.samples[len(s.samples)-1]
	var run []soakSample
	for _, smp := range s.samples {
		if smp.started.Equal(last.started) {
			run = append(run, smp)
		}
	}
	warmup := min(2*time.Minute, last.at.Sub(run[0].at)/10)
	var first, final []soakSample
	for _, smp := range run {
		if smp.at.After(run[0].at.Add(warmup)) && smp.at.Before(run[0].at.Add(warmup+time.Minute)) {
			first = append(first, smp)
		}
		if smp.at.After(last.at.Add(-time.Minute)) {
			final = append(final, smp)
		}
	}
	return median(first), median(final)
}

// median is the sample of median memory, with the median goroutines.
func median(ss []soakSample) soakSample {
	if len(ss) == 0 {
		return soakSample{}
	}
	byRSS := slices.Clone(ss)
	slices.SortFunc(byRSS, func(a, b soakSample) int { return cmp.Compare(a.rss, b.rss) })
	m := byRSS[len(byRSS)/2]
	gs := make([]float64, len(ss))
	for i, smp := range ss {
		gs[i] = smp.goroutines
	}
	slices.Sort(gs)
	m.goroutines = gs[len(gs)/2]
	return m
}

// growth is how much b is above a, in percent.
func growth(a, b float64) float64 {
	if a == 0 {
		return 0
	}
	return (b - a) / a * 100
}
