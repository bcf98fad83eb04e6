/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line options of the programs in tools/ (C and C++, libc only):
 * a program lists its options once, in a table of struct cli_opt, and
 * cli_getopt() makes of it what getopt_long() wants (the long options and
 * the short option string, kept apart by hand otherwise) and checks the
 * range of every option that takes a whole number and stores it. The
 * program's own switch is left with the options that are not numbers.
 */
#ifndef TOOLS_LIB_CLI_OPTS_H
#define TOOLS_LIB_CLI_OPTS_H

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_OPTS_MAX 32

/* What follows an option. */
enum cli_arg {
	CLI_NONE,   /* nothing: a switch */
	CLI_STRING, /* an argument the program reads from optarg */
	CLI_NUMBER, /* a whole number (decimal or 0x...) from lo to hi */
};

/*
 * struct cli_opt - one option
 * @name: its long name (--name)
 * @key: what cli_getopt() returns for it: its letter, also the short
 *	option (-k), or a value above 255 for an option with a long name only
 * @arg: what follows it
 * @lo: with CLI_NUMBER, the least value
 * @hi: with CLI_NUMBER, the greatest value
 * @dst: with CLI_NUMBER, where the value goes: an integer field of 4 or 8
 *	bytes (its type may hold lo..hi)
 * @size: sizeof that field
 */
struct cli_opt {
	const char *name;
	int key;
	enum cli_arg arg;
	long long lo, hi;
	void *dst;
	size_t size;
};

/* The rows of a table of struct cli_opt, by what follows the option. */
#define CLI_OPT_NONE(key, name)                                                                    \
	{                                                                                          \
		(name), (key), CLI_NONE, 0, 0, NULL, 0                                             \
	}
#define CLI_OPT_STRING(key, name)                                                                  \
	{                                                                                          \
		(name), (key), CLI_STRING, 0, 0, NULL, 0                                           \
	}
/* A whole number from @lo to @hi, stored in the integer @field. */
#define CLI_OPT_NUMBER(key, name, lo, hi, field)                                                   \
	{                                                                                          \
		(name), (key), CLI_NUMBER, (lo), (hi), &(field), sizeof(field)                     \
	}

/*
 * struct cli - a program's command line
 * @prog: the program's name, for messages
 * @posix: options end at the first argument that is none (getopt's "+")
 * @opts: its options
 * @nopts: how many (at most CLI_OPTS_MAX)
 */
struct cli {
	const char *prog;
	int posix;
	const struct cli_opt *opts;
	size_t nopts;
};

/* Store @v in @o's field (two's complement: the low bytes, whatever the sign). */
static inline void cli_store(const struct cli_opt *o, long long v)
{
	uint32_t v32 = (uint32_t)v;
	uint64_t v64 = (uint64_t)v;

	if (o->size == sizeof(v32))
		memcpy(o->dst, &v32, sizeof(v32));
	else if (o->size == sizeof(v64))
		memcpy(o->dst, &v64, sizeof(v64));
}

/*
 * cli_getopt() - the next option of the command line
 * @cli: the program's options
 * @argc: main()'s
 * @argv: main()'s
 *
 * getopt_long() over @cli's table. A CLI_NUMBER option's argument is
 * parsed, checked and stored in its field; a bad one is said on stderr as
 * "PROG: bad NAME 'ARG'".
 *
 * Return: the option's key (optarg holds a CLI_STRING argument), 0 for a
 * CLI_NUMBER option (stored, as getopt_long() returns 0 for an option it
 * stores a flag for), -1 after the last option, or '?' for an unknown
 * option, a missing argument or a bad number (said on stderr).
 */
static inline int cli_getopt(struct cli *cli, int argc, char **argv)
{
	struct option longopts[CLI_OPTS_MAX + 1];
	char shortopts[2 + 2 * CLI_OPTS_MAX];
	const struct cli_opt *o;
	size_t i, k = 0;
	long long v;
	char *end;
	int c;

	if (cli->nopts > CLI_OPTS_MAX) {
		fprintf(stderr, "%s: more than %d options\n", cli->prog, CLI_OPTS_MAX);
		return '?';
	}
	memset(longopts, 0, sizeof(longopts));
	if (cli->posix)
		shortopts[k++] = '+';
	for (i = 0; i < cli->nopts; i++) {
		o = &cli->opts[i];
		longopts[i].name = o->name;
		longopts[i].has_arg = o->arg == CLI_NONE ? no_argument : required_argument;
		longopts[i].val = o->key;
		if (o->key > 255)
			continue;
		shortopts[k++] = (char)o->key;
		if (o->arg != CLI_NONE)
			shortopts[k++] = ':';
	}
	shortopts[k] = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	for (i = 0; c != -1 && i < cli->nopts; i++) {
		o = &cli->opts[i];
		if (o->key != c || o->arg != CLI_NUMBER)
			continue;
		errno = 0;
		v = strtoll(optarg, &end, 0);
		if (errno || *end || end == optarg || v < o->lo || v > o->hi) {
			fprintf(stderr, "%s: bad %s '%s'\n", cli->prog, o->name, optarg);
			return '?';
		}
		cli_store(o, v);
		return 0;
	}
	return c;
}

#endif
