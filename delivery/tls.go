package delivery

import (
	"crypto/x509"
	"fmt"
	"os"
)

// RootCAs returns the certificate authorities a channel trusts: base (the
// system's when nil) plus those of the PEM file caFile, if set, so that a
// provider with a private CA can be reached.
func RootCAs(base *x509.CertPool, caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return base, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	roots := base
	if roots == nil {
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
	} else {
		roots = roots.Clone()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	return roots, nil
}
