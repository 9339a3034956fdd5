package main

import (
	"testing"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/console"
)

// The console signs in with the API's keys: a key's name, role and
// systems are the console identity's, and a key rotated out no longer
// signs in.
func TestConsoleIdentities(t *testing.T) {
	keys, err := api.NewKeyring([]api.Key{{Name: "campus-ops", Secret: "ops-secret-0123456789", Role: api.RoleOperator,
		Systems: []string{"campus"}}, {Name: "auditor", Secret: "view-secret-0123456789", Role: api.RoleViewer}})
	if err != nil {
		t.Fatal(err)
	}
	auth := consoleIdentities(keys)
	id, ok := auth("ops-secret-0123456789")
	if !ok || id.Name != "campus-ops" || id.Role != console.RoleOperator || !id.Sees("campus") || id.Sees("hospital") || !id.CanChange() {
		t.Errorf("operator: %+v %v", id, ok)
	}
	if id, ok := auth("view-secret-0123456789"); !ok || id.Role != console.RoleViewer || id.CanChange() || !id.Sees("hospital") {
		t.Errorf("viewer: %+v %v", id, ok)
	}
	if err := keys.Replace([]api.Key{{Name: "auditor", Secret: "view-secret-0123456789", Role: api.RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := auth("ops-secret-0123456789"); ok {
		t.Errorf("a key rotated out still signs in")
	}
	if _, ok := auth("nope"); ok {
		t.Errorf("a wrong key signs in")
	}
}
