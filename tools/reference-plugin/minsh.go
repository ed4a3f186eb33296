package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// A deliberately tiny `/bin/sh -c` so Docker's shell-form health checks
// (`docker run --health-cmd '...'`, compose `test: "..."`, which Docker always
// runs as `/bin/sh -c <string>`) work in an image that contains nothing but
// this binary. The image links /bin/sh to /plugin.
//
// Supported: words with '...', "..." and backslash quoting; command lists
// joined by `&&`, `||` and `;`; the builtins `exit [N]`, `true`, `false`.
// Anything else a real shell would interpret (pipes, redirections, `$`
// expansion, globbing, backquotes, subshells) is rejected with status 2
// rather than being silently misinterpreted.

type shCommand struct {
	op   string // operator joining this command to the previous one ("", "&&", "||", ";")
	argv []string
}

var errShSyntax = errors.New("unsupported shell syntax")

func shParse(script string) ([]shCommand, error) {
	var (
		cmds    []shCommand
		words   []string
		cur     strings.Builder
		inWord  bool
		pending = ""
	)
	flushWord := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	flushCmd := func(nextOp string) error {
		flushWord()
		if len(words) == 0 {
			if nextOp == ";" && pending == "" {
				return nil // empty statement, e.g. trailing ';'
			}
			return fmt.Errorf("%w: empty command near %q", errShSyntax, nextOp)
		}
		cmds = append(cmds, shCommand{op: pending, argv: words})
		words, pending = nil, nextOp
		return nil
	}

	r := []rune(script)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\'':
			j := i + 1
			for j < len(r) && r[j] != '\'' {
				j++
			}
			if j >= len(r) {
				return nil, fmt.Errorf("%w: unterminated single quote", errShSyntax)
			}
			cur.WriteString(string(r[i+1 : j]))
			inWord, i = true, j
		case c == '"':
			j := i + 1
			for ; j < len(r) && r[j] != '"'; j++ {
				switch r[j] {
				case '\\':
					if j+1 < len(r) && strings.ContainsRune("\"\\$`\n", r[j+1]) {
						j++
					}
				case '$', '`':
					return nil, fmt.Errorf("%w: expansion %q", errShSyntax, string(r[j]))
				}
				cur.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("%w: unterminated double quote", errShSyntax)
			}
			inWord, i = true, j
		case c == '\\':
			if i+1 < len(r) {
				i++
				if r[i] != '\n' {
					cur.WriteRune(r[i])
					inWord = true
				}
			}
		case c == ' ' || c == '\t' || c == '\n':
			if c == '\n' {
				if err := flushCmd(";"); err != nil {
					return nil, err
				}
			} else {
				flushWord()
			}
		case c == '&' && i+1 < len(r) && r[i+1] == '&',
			c == '|' && i+1 < len(r) && r[i+1] == '|':
			if err := flushCmd(string(r[i : i+2])); err != nil {
				return nil, err
			}
			i++
		case c == ';':
			if err := flushCmd(";"); err != nil {
				return nil, err
			}
		case strings.ContainsRune("|&<>$`(){}*?[~", c):
			return nil, fmt.Errorf("%w: %q", errShSyntax, string(c))
		case c == '#' && !inWord:
			for i < len(r) && r[i] != '\n' {
				i++
			}
			i-- // let the newline (if any) terminate the command
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	flushWord()
	if len(words) > 0 {
		cmds = append(cmds, shCommand{op: pending, argv: words})
	} else if pending != "" && pending != ";" {
		return nil, fmt.Errorf("%w: dangling %q", errShSyntax, pending)
	}
	return cmds, nil
}

func shExec(argv []string, stdout, stderr io.Writer) (status int, exit bool) {
	switch argv[0] {
	case "exit":
		if len(argv) > 1 {
			n, err := strconv.Atoi(argv[1])
			if err != nil {
				fmt.Fprintf(stderr, "sh: exit: %q: numeric argument required\n", argv[1])
				return 2, true
			}
			return n & 0xff, true
		}
		return -1, true // exit with the last status
	case "true", ":":
		return 0, false
	case "false":
		return 1, false
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode() & 0xff, false
		}
		fmt.Fprintf(stderr, "sh: %s: %v\n", argv[0], err)
		return 127, false
	}
	return 0, false
}

// runSh implements `sh -c SCRIPT [ARG0 ...]`.
func runSh(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "-c" {
		fmt.Fprintln(stderr, "sh: this minimal shell only supports: sh -c 'command [&& | || | ;] ...'")
		return 2
	}
	cmds, err := shParse(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 2
	}
	status := 0
	for _, c := range cmds {
		if (c.op == "&&" && status != 0) || (c.op == "||" && status == 0) {
			continue
		}
		st, exit := shExec(c.argv, stdout, stderr)
		if exit {
			if st >= 0 {
				return st
			}
			return status
		}
		status = st
	}
	return status
}
