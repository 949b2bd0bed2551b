// Command notecheck checks Stateline's signed notes with Go's reference signed-note code
// (golang.org/x/mod/sumdb/note), and signs one for Stateline to check.
//
//	notecheck verify -note FILE -log VKEY [-witness VKEY]...
//	notecheck sign -name NAME -text FILE
//
// verify opens the note with note.Open: the log's key through note.NewVerifier, each
// witness's key through cosignatureV1, a note.Verifier for c2sp.org/tlog-cosignature
// (type 0x04). It prints a line per signature that verified and exits 1 unless the log and
// every witness named signed. sign makes a key with note.GenerateKey, signs the text with
// note.Sign, and prints the verifier key, then the note.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

const cosignatureType = 0x04

type keys []string

func (k *keys) String() string     { return strings.Join(*k, ",") }
func (k *keys) Set(v string) error { *k = append(*k, v); return nil }

// cosignatureV1 verifies Ed25519 cosignatures: an 8-byte big-endian timestamp, then a
// signature over "cosignature/v1\ntime <timestamp>\n" and the note's text.
type cosignatureV1 struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func newCosignatureV1(vkey string) (*cosignatureV1, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return nil, errors.New("malformed verifier key")
	}
	name, hash16, key64 := parts[0], parts[1], parts[2]
	hash, err := strconv.ParseUint(hash16, 16, 32)
	if err != nil {
		return nil, errors.New("malformed key id")
	}
	raw, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != cosignatureType {
		return nil, errors.New("not a cosignature/v1 (type 0x04) key")
	}
	sum := sha256.Sum256(append([]byte(name+"\n"), raw...))
	if binary.BigEndian.Uint32(sum[:4]) != uint32(hash) {
		return nil, errors.New("key id does not match the key")
	}
	return &cosignatureV1{name, uint32(hash), ed25519.PublicKey(raw[1:])}, nil
}

func (v *cosignatureV1) Name() string    { return v.name }
func (v *cosignatureV1) KeyHash() uint32 { return v.hash }
func (v *cosignatureV1) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	timestamp := binary.BigEndian.Uint64(sig[:8])
	if timestamp > math.MaxInt64 {
		return false
	}
	signed := fmt.Sprintf("cosignature/v1\ntime %d\n%s", timestamp, msg)
	return ed25519.Verify(v.key, []byte(signed), sig[8:])
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "notecheck: "+format+"\n", args...)
	os.Exit(1)
}

func verify(args []string) {
	flags := flag.NewFlagSet("verify", flag.ExitOnError)
	path := flags.String("note", "", "the signed note")
	logKey := flags.String("log", "", "the log's verifier key")
	var witnesses keys
	flags.Var(&witnesses, "witness", "a witness's cosignature/v1 verifier key (repeat)")
	flags.Parse(args)

	msg, err := os.ReadFile(*path)
	if err != nil {
		fail("%v", err)
	}
	logVerifier, err := note.NewVerifier(*logKey)
	if err != nil {
		fail("log key: %v", err)
	}
	verifiers := []note.Verifier{logVerifier}
	for _, vkey := range witnesses {
		v, err := newCosignatureV1(vkey)
		if err != nil {
			fail("witness key %q: %v", vkey, err)
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] != logVerifier.Name() {
		fail("the note is not a checkpoint of %s", logVerifier.Name())
	}
	fmt.Printf("checkpoint %s size %s\n", lines[0], lines[1])
	signed := map[string]bool{}
	for _, sig := range n.Sigs {
		signed[fmt.Sprintf("%s+%08x", sig.Name, sig.Hash)] = true
		if sig.Name == logVerifier.Name() && sig.Hash == logVerifier.KeyHash() {
			fmt.Printf("log %s verified\n", sig.Name)
			continue
		}
		raw, _ := base64.StdEncoding.DecodeString(sig.Base64)
		fmt.Printf("cosignature %s time %d verified\n", sig.Name, binary.BigEndian.Uint64(raw[4:12]))
	}
	for _, v := range verifiers {
		if !signed[fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash())] {
			fail("%s did not sign the note", v.Name())
		}
	}
}

func sign(args []string) {
	flags := flag.NewFlagSet("sign", flag.ExitOnError)
	name := flags.String("name", "", "the key's name (a checkpoint's origin)")
	path := flags.String("text", "", "the text to sign")
	flags.Parse(args)

	text, err := os.ReadFile(*path)
	if err != nil {
		fail("%v", err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, *name)
	if err != nil {
		fail("note.GenerateKey: %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		fail("note.NewSigner: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		fail("note.Sign: %v", err)
	}
	fmt.Println(vkey)
	os.Stdout.Write(msg)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: notecheck verify|sign ...")
	}
	switch os.Args[1] {
	case "verify":
		verify(os.Args[2:])
	case "sign":
		sign(os.Args[2:])
	default:
		fail("unknown command %q", os.Args[1])
	}
}
