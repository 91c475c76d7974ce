package kvsaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/kvsmkv/kvsmkv/internal/atomicfile"
	"github.com/kvsmkv/kvsmkv/tags"
)

// Position is where a follow of a stream stands: the last fragment it
// delivered whole, and the continuation token GetMedia gave after it.
// Following from a Position starts with the fragment after it.
type Position struct {
	Stream            string              `json:"stream"`
	FragmentNumber    tags.FragmentNumber `json:"fragmentNumber"`
	ContinuationToken string              `json:"continuationToken,omitempty"`
	ProducerTimestamp tags.Timestamp      `json:"producerTimestamp,omitzero"`
	ServerTimestamp   tags.Timestamp      `json:"serverTimestamp,omitzero"`
}

// IsZero reports whether p is the zero Position: nothing delivered yet.
func (p Position) IsZero() bool { return p.FragmentNumber == "" && p.ContinuationToken == "" }

// StartSelector returns the GetMedia selector that resumes after p: its
// continuation token, or the fragment after its fragment number.
func (p Position) StartSelector() StartSelector {
	if p.ContinuationToken != "" {
		return StartSelector{StartSelectorType: StartAtContinuationToken, ContinuationToken: p.ContinuationToken}
	}
	return StartSelector{StartSelectorType: StartAtFragmentNumber, AfterFragmentNumber: p.FragmentNumber}
}

// Checkpointer keeps the Position of a follow across restarts. Follow
// loads it before its first GetMedia call and saves it after each fragment
// the caller has handled: the caller's loop body returned for that
// fragment.
//
// This is at-least-once delivery: a process that stops after handling a
// fragment and before Save returns is given that fragment again when it
// restarts; no fragment is skipped. Callers that cannot repeat an action
// de-duplicate by fragment number.
type Checkpointer interface {
	// Load returns the saved Position of stream, or the zero Position
	// when there is none.
	Load(ctx context.Context, stream string) (Position, error)
	// Save stores p as the Position of p.Stream.
	Save(ctx context.Context, p Position) error
}

// FileCheckpointer keeps Positions in one JSON file, written atomically: a
// temporary file in the same directory, synced, then renamed over the
// old one and the directory synced, so that a crash at any moment leaves
// the old Position or the new one, never a torn file.
type FileCheckpointer struct {
	Path string

	mu sync.Mutex
}

// NewFileCheckpointer returns a FileCheckpointer of the file at path.
func NewFileCheckpointer(path string) *FileCheckpointer { return &FileCheckpointer{Path: path} }

// Load returns the Position of stream saved in the file, or the zero
// Position when the file or the stream is not there.
func (c *FileCheckpointer) Load(_ context.Context, stream string) (Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := c.read()
	return all[stream], err
}

// Save writes p into the file, keeping the Positions of other streams.
func (c *FileCheckpointer) Save(_ context.Context, p Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	all, err := c.read()
	if err != nil {
		return err
	}
	all[p.Stream] = p
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(c.Path, append(data, '\n')); err != nil {
		return fmt.Errorf("kvsaws: checkpoint: %w", err)
	}
	return nil
}

func (c *FileCheckpointer) read() (map[string]Position, error) {
	all := map[string]Position{}
	data, err := os.ReadFile(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		return all, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kvsaws: checkpoint: %w", err)
	}
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("kvsaws: checkpoint %s: %w", c.Path, err)
	}
	return all, nil
}
