/*
 * The firewall in mantad (filter.h): the policy file, compiling it against
 * the peers, the data-path hooks and reject replies, and its status.
 */
#include "daemon/filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "firewall/reject.h"

#define FILTER_TICK_MS 1000
/* Reject replies a second, at most: a flood of denied packets must not
 * become an equal flood back. */
#define REJECT_PER_SECOND 1000
#define REPLY_BUF (MESSAGE_MAX_DATAGRAM + MESSAGE_PADDING_MULTIPLE)

/* The identities of every peer, built from the device and the networks:
 * each identity's memberships are contiguous in infos, and each
 * membership's tags point into its member record (borrowed until the
 * compile returns). */
struct identities {
	struct fw_identity *ids;
	struct fw_member_info *infos;
	const char **tags; /* MEMBER_TAGS_MAX per membership */
	size_t n;
};

static void identities_free(struct identities *s)
{
	free(s->ids);
	free(s->infos);
	free(s->tags);
}

/* The peer's memberships from `at' in s->infos; returns how many. */
static size_t memberships(struct mantad *d, const uint8_t *key, struct identities *s, size_t at)
{
	size_t n = 0;

	for (size_t i = 0; i < d->mem.nnets; i++) {
		const struct network *net = d->mem.nets[i];
		const struct member_record *r;
		struct fw_member_info *m = &s->infos[at + n];
		const char **tags = &s->tags[(at + n) * MEMBER_TAGS_MAX];

		if (!membership_active(&d->mem, net))
			continue;
		r = network_member(net, key);
		if (!r || r->flags & MEMBER_FLAG_REVOKED)
			continue;
		m->network = net->label;
		m->hostname = r->hostname;
		m->ntags = r->ntags;
		for (size_t t = 0; t < r->ntags; t++)
			tags[t] = r->tags[t];
		m->tags = tags;
		n++;
	}
	return n;
}

static bool is_static(const struct config *cfg, const uint8_t *key)
{
	for (size_t i = 0; i < cfg->npeers; i++)
		if (memcmp(cfg->peers[i].public_key, key, KEY_LEN) == 0)
			return true;
	return false;
}

static int identities_build(struct mantad *d, const struct config *cfg, struct identities *s)
{
	size_t npeers = d->dev.peers.count ? d->dev.peers.count : 1;
	size_t most = npeers * (d->mem.nnets ? d->mem.nnets : 1), at = 0, k = 0;

	memset(s, 0, sizeof(*s));
	s->ids = calloc(npeers, sizeof(*s->ids));
	s->infos = calloc(most, sizeof(*s->infos));
	s->tags = calloc(most * MEMBER_TAGS_MAX, sizeof(*s->tags));
	if (!s->ids || !s->infos || !s->tags) {
		identities_free(s);
		return -ENOMEM;
	}
	for (const struct peer *p = d->dev.peers.head; p && k < npeers; p = p->list_next, k++) {
		struct fw_identity *id = &s->ids[k];

		memcpy(id->key, p->public_key, 32);
		memcpy(id->v6, p->v6, 16);
		memcpy(id->v4, p->v4, 4);
		id->is_static = is_static(cfg, p->public_key);
		id->nets = &s->infos[at];
		id->nnets = memberships(d, p->public_key, s, at);
		at += id->nnets;
	}
	s->n = k;
	return 0;
}

/* The policy compiled against the peers now; NULL if out of memory. */
static struct fw_ruleset *compile(struct filter *f, const struct fw_policy *p,
				  const struct config *cfg)
{
	struct mantad *d = f->d;
	struct fw_ruleset *rs;
	struct fw_local local;
	struct identities s;

	memcpy(local.v6, d->id->v6, 16);
	memcpy(local.v4, d->id->v4, 4);
	if (identities_build(d, cfg, &s) < 0)
		return NULL;
	rs = fw_ruleset_compile(p, s.ids, s.n, &local, ++f->generation);
	identities_free(&s);
	return rs;
}

static void install(struct filter *f, struct fw_ruleset *rs)
{
	int r = fw_install(&f->fw, rs);

	if (r < 0)
		log_warn("firewall", "the flow table keeps %u flows: %s", f->fw.ct.cap,
			 strerror(-r));
}

void filter_refresh(struct mantad *d, const struct config *cfg)
{
	struct filter *f = &d->fw;
	struct fw_ruleset *rs;

	if (!f->ready)
		return;
	rs = compile(f, &f->policy, cfg);
	if (!rs) {
		log_err("firewall",
			"out of memory: the rules still apply to the peers as they were");
		return;
	}
	install(f, rs);
}

int filter_apply(struct filter *f, struct fw_policy *next, char *err, size_t errlen)
{
	struct fw_ruleset *rs = compile(f, next, &f->d->cfg);
	int r;

	if (!rs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = fw_policy_save(f->path, next, err, errlen);
	if (r < 0) {
		fw_ruleset_free(rs);
		return r;
	}
	install(f, rs);
	fw_policy_free(&f->policy);
	f->policy = *next;
	memset(next, 0, sizeof(*next));
	return 0;
}

/* --- life cycle ------------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
	struct filter *f = container_of(t, struct filter, timer);

	fw_tick(&f->fw, uv_hrtime());
}

static void load(struct filter *f)
{
	int r = fw_policy_load(f->path, &f->policy, f->load_error, sizeof(f->load_error));

	if (r == 0) {
		log_info("firewall", "%s: %zu rules, inbound %s by default", f->path,
			 f->policy.nrules, fw_action_name(f->policy.defaults[FW_DEFAULT_IN]));
		return;
	}
	if (r != -ENOENT) {
		f->load_failed = true;
		log_err("firewall",
			"%s; the default rules apply, and firewall edits are refused "
			"until the file is fixed or removed and mantad restarted",
			f->load_error);
	}
	if (fw_policy_init(&f->policy) < 0)
		log_err("firewall", "out of memory for the default rules");
}

void filter_reload(struct filter *f, const struct config *cfg)
{
	struct fw_policy next;
	struct fw_ruleset *rs;
	char err[sizeof(f->load_error)];
	int r;

	if (!f->ready)
		return;
	r = fw_policy_load(f->path, &next, err, sizeof(err));
	if (r == -ENOENT && (r = fw_policy_init(&next)) < 0)
		snprintf(err, sizeof(err), "out of memory for the default rules");
	if (r < 0) {
		/* Keep enforcing what runs; edits stay refused until the file is
		 * fixed, so that no edit overwrites what the user is writing. */
		memcpy(f->load_error, err, sizeof(err));
		f->load_failed = true;
		log_err("firewall", "SIGHUP: keeping the running rules: %s", err);
		return;
	}
	rs = compile(f, &next, cfg);
	if (!rs) {
		fw_policy_free(&next);
		log_err("firewall", "SIGHUP: out of memory, keeping the running rules");
		return;
	}
	install(f, rs);
	fw_policy_free(&f->policy);
	f->policy = next;
	f->load_failed = false;
	f->load_error[0] = '\0';
	log_info("firewall", "%s: re-read, %zu rules, inbound %s by default", f->path,
		 f->policy.nrules, fw_action_name(f->policy.defaults[FW_DEFAULT_IN]));
}

int filter_start(struct filter *f, struct mantad *d)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->d = d;
	if (snprintf(f->path, sizeof(f->path), "%s/firewall.json", d->cfg.state_dir) >=
	    (int)sizeof(f->path))
		return -ENAMETOOLONG;
	load(f);
	f->reply = malloc(REPLY_BUF);
	if (!f->reply)
		return -ENOMEM;
	r = fw_init(&f->fw, f->policy.max_flows);
	if (r < 0)
		return r;
	uv_timer_init(&d->loop, &f->timer);
	f->timer_open = true;
	r = uv_timer_start(&f->timer, on_tick, FILTER_TICK_MS, FILTER_TICK_MS);
	if (r < 0)
		return r;
	f->ready = true;
	filter_refresh(d, &d->cfg);
	return 0;
}

void filter_stop(struct filter *f)
{
	if (f->timer_open && !uv_is_closing((uv_handle_t *)&f->timer))
		uv_close((uv_handle_t *)&f->timer, NULL);
	f->timer_open = false;
}

void filter_free(struct filter *f)
{
	f->ready = false;
	fw_deinit(&f->fw);
	fw_policy_free(&f->policy);
	free(f->reply);
	f->reply = NULL;
}

/* --- the data path ---------------------------------------------------------- */

static bool reject_allowed(struct filter *f, uint64_t now)
{
	if (now - f->reject_window >= NSEC_PER_SEC) {
		f->reject_window = now;
		f->reject_budget = REJECT_PER_SECOND;
	}
	if (!f->reject_budget)
		return false;
	f->reject_budget--;
	return true;
}

/* A peer's packet was rejected: seal the reply to that peer. */
static void reject_to_peer(struct mantad *d, const uint8_t *ip, size_t len)
{
	struct filter *f = &d->fw;
	const struct sockaddr_in6 *to;
	size_t n, out_len;

	if (!reject_allowed(f, d->dev.now))
		return;
	n = fw_reject(&f->fw, ip, len, f->reply + MESSAGE_DATA_HEADER_LEN, FW_REJECT_MAX);
	if (n && device_encrypt(&d->dev, f->reply, n, &out_len, &to) == DEVICE_TX_SEND)
		dataplane_send(&d->dp, to, f->reply, out_len);
}

/* A local app's packet was rejected: the reply goes back into the TUN. */
static void reject_to_tun(struct mantad *d, const uint8_t *ip, size_t len)
{
	struct filter *f = &d->fw;
	size_t n;

	if (!reject_allowed(f, d->dev.now) || d->dp.tun_fd < 0)
		return;
	n = fw_reject(&f->fw, ip, len, f->reply, FW_REJECT_MAX);
	if (n && write(d->dp.tun_fd, f->reply, n) < 0)
		d->dp.counters.tun_tx_errors++;
}

bool filter_in(struct mantad *d, const uint8_t *ip, size_t len)
{
	enum fw_verdict v = fw_filter(&d->fw.fw, FW_IN, ip, len, d->dev.now);

	if (v == FW_REJECT)
		reject_to_peer(d, ip, len);
	return v == FW_PASS;
}

bool filter_out(struct mantad *d, const uint8_t *ip, size_t len)
{
	enum fw_verdict v = fw_filter(&d->fw.fw, FW_OUT, ip, len, d->dev.now);

	if (v == FW_REJECT)
		reject_to_tun(d, ip, len);
	return v == FW_PASS;
}

/* --- status ----------------------------------------------------------------- */

void filter_status(struct filter *f, json_t *status)
{
	const struct fw_counters *c = &f->fw.counters;
	const struct fw_ct_counters *k = &f->fw.ct.counters;
	const struct fw_policy *p = &f->policy;
	json_t *o;

	o = json_pack("{s:I,s:{s:s,s:s,s:s},s:b,s:I,s:I,s:I,s:I,s:I}", "rules",
		      (json_int_t)p->nrules, "default", "in",
		      fw_action_name(p->defaults[FW_DEFAULT_IN]), "out",
		      fw_action_name(p->defaults[FW_DEFAULT_OUT]), "static",
		      fw_action_name(p->defaults[FW_DEFAULT_STATIC]), "reject", p->reject, "flows",
		      (json_int_t)f->fw.ct.count, "max_flows", (json_int_t)f->fw.ct.cap,
		      "flows_created", (json_int_t)k->created, "flows_expired",
		      (json_int_t)k->expired, "flows_evicted", (json_int_t)k->evicted);
	if (!o)
		return;
	json_object_set_new(o, "dropped",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "in_rule",
				      (json_int_t)c->in_denied_rule, "in_default",
				      (json_int_t)c->in_denied_default, "out_rule",
				      (json_int_t)c->out_denied_rule, "out_default",
				      (json_int_t)c->out_denied_default, "not_local",
				      (json_int_t)c->not_local, "invalid", (json_int_t)c->invalid));
	json_object_set_new(o, "passed",
			    json_pack("{s:I,s:I,s:I,s:I}", "return", (json_int_t)c->passed_return,
				      "related", (json_int_t)c->passed_related, "control",
				      (json_int_t)c->passed_control, "fragment",
				      (json_int_t)c->passed_fragment));
	json_object_set_new(o, "rejected", json_integer((json_int_t)c->rejected));
	json_object_set_new(o, "error", f->load_failed ? json_string(f->load_error) : json_null());
	json_object_set_new(status, "firewall", o);
}
