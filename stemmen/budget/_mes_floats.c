/* Equal Shares runs in floating point, for add1's search only.
 *
 * Why these runs can be trusted when they say they are sure, and how the caller uses them:
 * see _mes_floats.py. This file is built as an optional extension module; Python calls its
 * two entry points through ctypes with a pointer to one `Instance` (arrays in CSR form, as
 * FloatRuns lays them out). Without a C compiler the module is not built and add1 runs
 * exactly in Python, only slower.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define UNSURE (-1)
#define UNAFFORDABLE 0
#define PRICED 1
#define BOUNDED 2
/* Integers below this multiply into int64 without overflow. */
#define SMALL 2147483648.0

typedef struct {
    int64_t ballot_count;
    int64_t project_count;
    int64_t candidate_count;
    const int64_t *starts;        /* supporters of j: ballots[starts[j] .. starts[j+1]) */
    const int64_t *ballots;
    const double *utilities;      /* per supporter entry */
    const double *weights;        /* per supporter entry */
    const double *inverse_utilities; /* 1 / utility, per supporter entry */
    const double *costs;
    const double *scales;         /* rho = payment per unit of utility / scale */
    const double *total_utility;  /* sum of weight * utility over the supporters */
    const double *total_weight;   /* sum of weight over the supporters */
    const int64_t *small_costs;   /* the cost if below 2**31, else -1 */
    const uint8_t *scale_is_cost; /* cost satisfaction: rho = 1 / rich utility */
    const int64_t *ranks;         /* tie-break: lower goes first */
    const int64_t *twins;         /* a group of projects with the same price always; -1 */
    const uint8_t *sharing;       /* project_count x project_count: a common supporter */
    const int64_t *candidates;
    double margin;
} Instance;

typedef struct {
    double *money;
    uint8_t *broke; /* surely has nothing left */
    uint8_t *alive;
    uint8_t *dirty;
    double *rich;   /* rho = cost / (rich * scale) exactly where rich > 0 */
    double *rho;    /* a lower bound of the price; the price once clean */
    double *spread; /* how far rho may be from what it stands for, at most */
    double widest;  /* the widest spread so far */
    double start;
    int64_t *heap;
    int64_t *near;
    int64_t *clear;
} State;

static void state_free(State *state) {
    free(state->money);
    free(state->broke);
    free(state->alive);
    free(state->dirty);
    free(state->rich);
    free(state->rho);
    free(state->spread);
    free(state->heap);
    free(state->near);
    free(state->clear);
}

static int state_init(State *state, const Instance *in, double start) {
    int64_t n = in->ballot_count, p = in->project_count;
    state->money = malloc(sizeof(double) * (size_t)(n ? n : 1));
    state->broke = calloc((size_t)(n ? n : 1), 1);
    state->alive = calloc((size_t)(p ? p : 1), 1);
    state->dirty = calloc((size_t)(p ? p : 1), 1);
    state->rich = calloc((size_t)(p ? p : 1), sizeof(double));
    state->rho = calloc((size_t)(p ? p : 1), sizeof(double));
    state->spread = calloc((size_t)(p ? p : 1), sizeof(double));
    state->widest = 0.0;
    state->start = start;
    state->heap = malloc(sizeof(int64_t) * (size_t)(p ? p : 1));
    state->near = malloc(sizeof(int64_t) * (size_t)(p ? p : 1));
    state->clear = malloc(sizeof(int64_t) * (size_t)(p ? p : 1));
    if (!state->money || !state->broke || !state->alive || !state->dirty || !state->rich ||
        !state->rho || !state->spread || !state->heap || !state->near || !state->clear) {
        state_free(state);
        return 0;
    }
    for (int64_t i = 0; i < n; i++) state->money[i] = start;
    for (int64_t c = 0; c < in->candidate_count; c++) {
        int64_t j = in->candidates[c];
        state->alive[j] = 1;
        state->dirty[j] = 1;
        /* Everyone paying an equal share: the lowest price a project can ever have. */
        state->rho[j] = in->costs[j] / (in->total_utility[j] * in->scales[j]);
    }
    return 1;
}

/* What one Newton pass for project j's price needs, at payment `payment` per unit of utility:
 * each supporter holds money0 + lambda * (money1 - money0) (money0 alone when money1 is NULL),
 * and is poor (pays all they hold) below payment * utility, rich otherwise. */
typedef struct {
    double wealth;          /* what the supporters hold */
    double paid_by_poor;    /* what the poor hold */
    double poor_drift;      /* how fast that grows with lambda */
    double rich_utility;    /* the weighted utility of the rich */
    double lowest_rich;     /* the lowest money per utility among the rich */
    int poor_with_money;    /* a poor supporter not surely broke (when `broke` is given) */
} Pass;

static inline Pass newton_pass(const Instance *in, int64_t j, double payment,
                               const double *money0, const double *money1, double lambda,
                               const uint8_t *broke) {
    Pass pass = {0.0, 0.0, 0.0, 0.0, INFINITY, 0};
    for (int64_t e = in->starts[j]; e < in->starts[j + 1]; e++) {
        int64_t ballot = in->ballots[e];
        double drift = money1 ? money1[ballot] - money0[ballot] : 0.0;
        double held = money1 ? money0[ballot] + lambda * drift : money0[ballot];
        double weight = in->weights[e], utility = in->utilities[e];
        pass.wealth += weight * held;
        if (held < payment * utility) {
            pass.paid_by_poor += weight * held;
            if (money1) pass.poor_drift += weight * drift;
            if (broke) pass.poor_with_money |= !broke[ballot];
        } else {
            pass.rich_utility += weight * utility;
            double per_utility = held * in->inverse_utilities[e];
            if (per_utility < pass.lowest_rich) pass.lowest_rich = per_utility;
        }
    }
    return pass;
}

/* One pass over the supporters: (PRICED, payment per unit of utility, rich utility), (BOUNDED,
 * a higher lower bound of the payment) when the pass does not reach it, UNAFFORDABLE or
 * UNSURE. The rich utility (sum of weight * utility over the supporters who pay in full) is
 * set, and not 0, only when the payment is exactly cost over it: every supporter either
 * clearly pays in full or surely has nothing left.
 *
 * The payment solves sum of weight * min(money, payment * utility) = cost, a concave and
 * piecewise linear function of the payment. From a point below the root (the equal share, or
 * the price or bound known so far where higher: prices only rise within a run), each pass
 * splits the supporters into the poor (money below payment * utility: they pay all they
 * have) and the rich, and solves the linear piece. If its root is at most every rich
 * supporter's money per utility, it is the payment; else it is Newton's step, still below
 * the root (the function is concave), where the next pass starts. A run takes one pass at a
 * time: a raised bound may let another project to the top of its heap. */
static int price(const Instance *in, const State *st, int64_t j, double *payment_out,
                 double *rich_out, double *spread_out) {
    double cost = in->costs[j], margin = in->margin;
    /* Every sum here adds amounts no larger than the supporters' start money; its float
     * error is far below this (see _mes_floats.py), whatever cancels in it. */
    double tolerance = margin * (in->total_weight[j] * st->start + cost);
    double payment = cost / in->total_utility[j];
    double known = st->rho[j] * in->scales[j];
    if (known > payment) payment = known;
    Pass pass = newton_pass(in, j, payment, st->money, NULL, 0.0, st->broke);
    if (pass.wealth < cost - tolerance) return UNAFFORDABLE;
    if (pass.wealth <= cost + tolerance) return UNSURE;
    if (pass.rich_utility <= 0.0) return UNSURE;
    double following = (cost - pass.paid_by_poor) / pass.rich_utility;
    *spread_out = tolerance / pass.rich_utility;
    *payment_out = following;
    if (following > pass.lowest_rich) return BOUNDED;
    *rich_out = !pass.poor_with_money && pass.lowest_rich > following + margin * st->start
                    ? pass.rich_utility
                    : 0.0;
    return PRICED;
}

/* Bring a project's price up to date (dirty no more), or drop it when unaffordable, or, after
 * a pass that does not reach it, raise its lower bound (still dirty); 0: unsure. */
static int reprice(const Instance *in, State *st, int64_t j) {
    double payment = 0.0, rich_utility = 0.0, spread = 0.0;
    int kind = price(in, st, j, &payment, &rich_utility, &spread);
    if (kind == UNSURE) return 0;
    st->spread[j] = spread / in->scales[j];
    if (st->spread[j] > st->widest) st->widest = st->spread[j];
    if (kind == UNAFFORDABLE) {
        st->alive[j] = 0;
        st->dirty[j] = 0;
    } else if (kind == BOUNDED) {
        st->rho[j] = payment / in->scales[j];
    } else {
        st->dirty[j] = 0;
        st->rich[j] = rich_utility;
        st->rho[j] = payment / in->scales[j];
    }
    return 1;
}

static int before(const Instance *in, const State *st, int64_t one, int64_t other) {
    return st->rho[one] < st->rho[other] ||
           (st->rho[one] == st->rho[other] && in->ranks[one] < in->ranks[other]);
}

/* Which of two projects MES buys first when their prices are known exactly as cost / (rich *
 * scale) with these rich utilities (integers), by price and then rank; else UNSURE. */
static int64_t first_by_rich(const Instance *in, int64_t one, double rich_one, int64_t other,
                             double rich_other) {
    if (rich_one <= 0.0 || rich_other <= 0.0 || rich_one >= SMALL || rich_other >= SMALL)
        return UNSURE;
    /* rho = numerator / rich: 1 / rich for cost satisfaction, cost / rich otherwise. */
    int64_t one_numerator = in->scale_is_cost[one] ? 1 : in->small_costs[one];
    int64_t other_numerator = in->scale_is_cost[other] ? 1 : in->small_costs[other];
    if (one_numerator < 0 || other_numerator < 0) return UNSURE;
    int64_t left = one_numerator * (int64_t)rich_other;
    int64_t right = other_numerator * (int64_t)rich_one;
    if (left < right || (left == right && in->ranks[one] < in->ranks[other])) return one;
    return other;
}

/* Which of two projects MES buys first, by exact price and then rank, where their prices are
 * known exactly to be equal (twins) or known as cost / (rich * scale); else UNSURE. */
static int64_t first_of(const Instance *in, const State *st, int64_t one, int64_t other) {
    if (in->twins[one] >= 0 && in->twins[one] == in->twins[other])
        return in->ranks[one] < in->ranks[other] ? one : other;
    return first_by_rich(in, one, st->rich[one], other, st->rich[other]);
}

/* A heap of projects by (rho, rank); a project's key only changes while it is out of it. */
static int64_t push(const Instance *in, State *st, int64_t size, int64_t j) {
    int64_t *heap = st->heap, position = size;
    heap[position] = j;
    while (position) {
        int64_t parent = (position - 1) >> 1;
        if (!before(in, st, heap[position], heap[parent])) break;
        int64_t kept = heap[parent];
        heap[parent] = heap[position];
        heap[position] = kept;
        position = parent;
    }
    return size + 1;
}

static int64_t pop(const Instance *in, State *st, int64_t size) {
    int64_t *heap = st->heap, position = 0;
    size -= 1;
    heap[0] = heap[size];
    for (;;) {
        int64_t smallest = position, left = 2 * position + 1, right = left + 1;
        if (left < size && before(in, st, heap[left], heap[smallest])) smallest = left;
        if (right < size && before(in, st, heap[right], heap[smallest])) smallest = right;
        if (smallest == position) return size;
        int64_t kept = heap[smallest];
        heap[smallest] = heap[position];
        heap[position] = kept;
        position = smallest;
    }
}

/* Every supporter pays `payment` per unit of utility, or all they have. */
static void pay(const Instance *in, State *st, int64_t j, double payment) {
    double tolerance = in->margin * st->start;
    for (int64_t e = in->starts[j]; e < in->starts[j + 1]; e++) {
        int64_t ballot = in->ballots[e];
        double owed = payment * in->utilities[e], held = st->money[ballot];
        if (held > owed + tolerance) {
            st->money[ballot] = held - owed;
        } else if (held < owed - tolerance) {
            st->money[ballot] = 0.0;
            st->broke[ballot] = 1;
        } else {
            /* Whether anything is left is too close to call: whatever is, is tiny. */
            st->money[ballot] = held > owed ? held - owed : 0.0;
        }
    }
}

static void dirty_sharing(const Instance *in, State *st, int64_t bought) {
    const uint8_t *row = in->sharing + bought * in->project_count;
    for (int64_t j = 0; j < in->project_count; j++)
        if (st->alive[j] && row[j]) st->dirty[j] = 1;
}

static int64_t run(const Instance *in, State *st, int64_t *bought) {
    int64_t size = 0, count = 0;
    for (int64_t c = 0; c < in->candidate_count; c++) size = push(in, st, size, in->candidates[c]);
    while (size) {
        int64_t best = st->heap[0];
        size = pop(in, st, size);
        if (st->dirty[best]) {
            if (!reprice(in, st, best)) return UNSURE;
            if (st->alive[best]) size = push(in, st, size, best);
            continue;
        }
        /* A clean top is the cheapest, unless another price may be as low within what the
         * floats can tell: those must be clean too, then decided exactly, or the run is left
         * to the exact MES. Keys beyond the top's price plus both spreads are surely above. */
        double highest = st->rho[best] + st->spread[best];
        int64_t near_count = 0, clear_count = 0;
        while (size && st->rho[st->heap[0]] <= highest + st->widest) {
            int64_t other = st->heap[0];
            size = pop(in, st, size);
            if (st->dirty[other]) {
                if (!reprice(in, st, other)) return UNSURE;
                if (st->alive[other]) size = push(in, st, size, other);
                continue;
            }
            if (st->rho[other] - st->spread[other] <= highest)
                st->near[near_count++] = other;
            else
                st->clear[clear_count++] = other;
        }
        int64_t chosen = best;
        for (int64_t k = 0; k < near_count; k++) {
            chosen = first_of(in, st, chosen, st->near[k]);
            if (chosen == UNSURE) return UNSURE;
        }
        if (chosen != best) size = push(in, st, size, best);
        for (int64_t k = 0; k < near_count; k++)
            if (st->near[k] != chosen) size = push(in, st, size, st->near[k]);
        for (int64_t k = 0; k < clear_count; k++) size = push(in, st, size, st->clear[k]);
        pay(in, st, chosen, st->rho[chosen] * in->scales[chosen]);
        st->alive[chosen] = 0;
        bought[count++] = chosen;
        dirty_sharing(in, st, chosen);
    }
    return count;
}

/* One MES run with `start` money per unit of weight: the number of projects bought, written
 * in order into `bought`; UNSURE when a decision was too close for floats; -2 when out of
 * memory. */
int64_t stemmen_mes_run(const Instance *in, double start, int64_t *bought) {
    State st;
    if (!state_init(&st, in, start)) return -2;
    int64_t count = run(in, &st, bought);
    state_free(&st);
    return count;
}

/* ---- Proofs over an interval of start money, by bands -------------------------------------
 *
 * Start money runs over [low, high], written low + lambda * (high - low) with lambda in
 * [0, 1]. Following one order of purchases, each voter's money before each step lies between
 * two lines in lambda (a band), kept as their values at lambda 0 and 1. Why the bands hold,
 * and why they prove the order: see FloatRuns.same_order_between. */

/* Conditions that hold beyond the interval say how far, as a multiple of it; this when they
 * never fail. */
#define FOREVER 1e9

typedef struct {
    double *low0, *low1;   /* lower edge of the band, at lambda 0 and 1 */
    double *high0, *high1; /* upper edge */
    /* Per project, two lines below its price at every lambda, at this step and every later
     * one: its tangents at lambda 0 (left0, left1) and 1 (right0, right1). */
    double *left0, *left1, *right0, *right1;
    double *bound_spread;
    uint8_t *alive;
    /* Per voter: surely has nothing left for every lambda below this (0: not even at 0). */
    double *broke;
    double start;          /* the highest start: the money amounts here are measured against */
} Bands;

static void bands_free(Bands *b) {
    free(b->low0);
    free(b->low1);
    free(b->high0);
    free(b->high1);
    free(b->left0);
    free(b->left1);
    free(b->right0);
    free(b->right1);
    free(b->bound_spread);
    free(b->alive);
    free(b->broke);
}

static double tolerance_of(const Instance *in, const Bands *b, int64_t j) {
    return in->margin * (in->total_weight[j] * b->start + in->costs[j]);
}

static int bands_init(Bands *b, const Instance *in, double low, double high) {
    size_t n = (size_t)(in->ballot_count ? in->ballot_count : 1);
    size_t p = (size_t)(in->project_count ? in->project_count : 1);
    b->low0 = malloc(sizeof(double) * n);
    b->low1 = malloc(sizeof(double) * n);
    b->high0 = malloc(sizeof(double) * n);
    b->high1 = malloc(sizeof(double) * n);
    b->left0 = calloc(p, sizeof(double));
    b->left1 = calloc(p, sizeof(double));
    b->right0 = calloc(p, sizeof(double));
    b->right1 = calloc(p, sizeof(double));
    b->bound_spread = calloc(p, sizeof(double));
    b->alive = calloc(p, 1);
    b->broke = calloc(n, sizeof(double));
    b->start = high;
    if (!b->low0 || !b->low1 || !b->high0 || !b->high1 || !b->left0 || !b->left1 ||
        !b->right0 || !b->right1 || !b->bound_spread || !b->alive || !b->broke) {
        bands_free(b);
        return 0;
    }
    for (int64_t i = 0; i < in->ballot_count; i++) {
        b->low0[i] = b->high0[i] = low;
        b->low1[i] = b->high1[i] = high;
    }
    for (int64_t c = 0; c < in->candidate_count; c++) {
        int64_t j = in->candidates[c];
        b->alive[j] = 1;
        /* Everyone paying an equal share: below every price, at every start. */
        double share = in->costs[j] / (in->total_utility[j] * in->scales[j]);
        b->left0[j] = b->left1[j] = b->right0[j] = b->right1[j] = share;
    }
    return 1;
}


/* The price (rho) of project j when each supporter holds edge0 + lambda * (edge1 - edge0),
 * its derivative in lambda (from the supporters who pay all they have there) and how far the
 * float value may be off (spread): PRICED, UNAFFORDABLE or UNSURE. */
static int edge_price(const Instance *in, const Bands *b, int64_t j, const double *edge0,
                      const double *edge1, double lambda, double *rho_out, double *slope_out,
                      double *spread_out) {
    int64_t first = in->starts[j], last = in->starts[j + 1];
    double cost = in->costs[j], scale = in->scales[j], tolerance = tolerance_of(in, b, j);
    double payment = cost / in->total_utility[j];
    /* Newton's steps may start from any point below the root, such as j's lines (below its
     * true price, so below its price by the lower edge; by the upper edge mostly, and where
     * not, the first step falls instead of rising and they start again from the bottom). */
    double left = b->left0[j] + lambda * (b->left1[j] - b->left0[j]);
    double right = b->right0[j] + lambda * (b->right1[j] - b->right0[j]);
    double known = ((left > right ? left : right) - b->bound_spread[j]) * scale;
    int warm = known > payment;
    if (warm) payment = known;
    for (int64_t round = 0; round < last - first + 2; round++) {
        Pass pass = newton_pass(in, j, payment, edge0, edge1, lambda, NULL);
        double wealth = pass.wealth, paid_by_poor = pass.paid_by_poor;
        double poor_drift = pass.poor_drift, rich_utility = pass.rich_utility;
        double lowest_rich = pass.lowest_rich;
        if (round == 0) {
            if (wealth < cost - tolerance) return UNAFFORDABLE;
            if (wealth <= cost + tolerance) return UNSURE;
        }
        if (warm && (rich_utility <= 0.0 || (cost - paid_by_poor) / rich_utility < payment)) {
            warm = 0;
            payment = cost / in->total_utility[j];
            round = -1;
            continue;
        }
        warm = 0;
        if (rich_utility <= 0.0) return UNSURE;
        double following = (cost - paid_by_poor) / rich_utility;
        if (following <= lowest_rich) {
            *rho_out = following / scale;
            *slope_out = -poor_drift / rich_utility / scale;
            *spread_out = tolerance / rich_utility / scale;
            return PRICED;
        }
        payment = following;
    }
    return UNSURE;
}

/* How much the supporters of j lack, by one edge, at lambda 0 and 1 (tolerance included). */
static void edge_shortfall(const Instance *in, const Bands *b, int64_t j, const double *edge0,
                           const double *edge1, double *short0, double *short1) {
    double w0 = 0.0, w1 = 0.0, missing = in->costs[j] - tolerance_of(in, b, j);
    for (int64_t e = in->starts[j]; e < in->starts[j + 1]; e++) {
        w0 += in->weights[e] * edge0[in->ballots[e]];
        w1 += in->weights[e] * edge1[in->ballots[e]];
    }
    *short0 = missing - w0;
    *short1 = missing - w1;
}

/* Up to where on lambda a line worth at0 at 0 and at1 at 1 stays above 0: 0 when it does not
 * at 0, FOREVER when it never falls, beyond 1 when it holds on the whole interval (how far
 * past it guesses the next proof). */
static double holds_for(double at0, double at1) {
    if (at0 <= 0.0) return 0.0;
    if (at1 >= at0) return FOREVER;
    return at0 / (at0 - at1);
}

/* The tangent of project j's price by the upper edge at lambda `at`, a line below that price
 * at every lambda (the price of money that is a line in lambda is convex in lambda), as its
 * values at 0 and 1; UNAFFORDABLE or UNSURE when there is none. */
static int tangent(const Instance *in, const Bands *b, int64_t j, double at, double *at0,
                   double *at1, double *spread) {
    double rho = 0.0, slope = 0.0;
    int kind = edge_price(in, b, j, b->high0, b->high1, at, &rho, &slope, spread);
    if (kind != PRICED) return kind;
    *at0 = rho - at * slope;
    *at1 = rho + (1.0 - at) * slope;
    /* The slope is a float sum too: twice the spread covers its error over the interval. */
    *spread *= 2.0;
    return PRICED;
}

/* A new tangent of j's price at one end (lambda `at`, 0 or 1) replaces its line there: PRICED,
 * or UNAFFORDABLE (nothing changed) or UNSURE. The other line stays: lines below the price
 * at an earlier step stay below it, as prices only rise from step to step. */
static int retangent(const Instance *in, Bands *b, int64_t j, double at) {
    double at0 = 0.0, at1 = 0.0, spread = 0.0;
    int kind = tangent(in, b, j, at, &at0, &at1, &spread);
    if (kind != PRICED) return kind;
    if (at == 0.0) {
        b->left0[j] = at0;
        b->left1[j] = at1;
    } else {
        b->right0[j] = at0;
        b->right1[j] = at1;
    }
    if (spread > b->bound_spread[j]) b->bound_spread[j] = spread;
    return PRICED;
}

/* Where a line worth at0 at lambda 0 and at1 at 1 is at most 0: [*from, *to] within [0, inf). */
static void nonpositive(double at0, double at1, double *from, double *to) {
    double slope = at1 - at0;
    if (slope < 0.0) {
        *from = at0 > 0.0 ? at0 / -slope : 0.0;
        *to = INFINITY;
    } else if (slope > 0.0) {
        *from = 0.0;
        *to = at0 <= 0.0 ? -at0 / slope : -1.0;
    } else {
        *from = 0.0;
        *to = at0 <= 0.0 ? INFINITY : -1.0;
    }
}

/* How much of the interval j's price surely stays above the line from ceiling0 to ceiling1 by
 * more than slack, given that j is unaffordable below `affordable` (its price is then
 * infinite): more than 1 when all of it (and a guess how far past it), else a guess where it
 * fails. The price is above both lines, so above the higher of the two: that is at most the
 * line where both are. */
static double stays_above(const Bands *b, int64_t j, double ceiling0, double ceiling1,
                          double slack, double affordable) {
    double left_from = 0.0, left_to = 0.0, right_from = 0.0, right_to = 0.0;
    nonpositive(b->left0[j] - ceiling0 - slack, b->left1[j] - ceiling1 - slack, &left_from,
                &left_to);
    nonpositive(b->right0[j] - ceiling0 - slack, b->right1[j] - ceiling1 - slack, &right_from,
                &right_to);
    double from = left_from > right_from ? left_from : right_from;
    double to = left_to < right_to ? left_to : right_to;
    if (affordable > from) from = affordable;
    if (from > to) return FOREVER;
    return from < FOREVER ? from : FOREVER;
}

/* The rich utility of j when its price is exactly cost / (rich * scale) for every lambda below
 * *until: every supporter surely has nothing left there, or clearly holds more than that
 * share by the lower edge at 0 (so at every lambda: that edge only rises); else 0. */
static double exact_rich(const Instance *in, const Bands *b, int64_t j, double *until) {
    int64_t first = in->starts[j], last = in->starts[j + 1];
    double rich = 0.0, tolerance = in->margin * b->start;
    *until = FOREVER;
    for (int64_t e = first; e < last; e++) {
        double broke = b->broke[in->ballots[e]];
        if (broke > 0.0) {
            if (broke < *until) *until = broke;
        } else {
            rich += in->weights[e] * in->utilities[e];
        }
    }
    if (rich <= 0.0) return 0.0;
    double payment = in->costs[j] / rich;
    for (int64_t e = first; e < last; e++) {
        int64_t ballot = in->ballots[e];
        if (b->broke[ballot] > 0.0) continue;
        if (b->low0[ballot] <= payment * in->utilities[e] + tolerance) return 0.0;
    }
    return rich;
}

/* Over how much of the interval [0, 1] of lambda `order` is surely bought: every condition
 * below holds on [0, the returned value), on all of [0, 1] when that is above 1 (and then a
 * guess how far past it they hold); 0 when not even near lambda 0. `predicted` guesses where
 * the order would change first by the slopes at lambda 0. */
static double band_keeps_order(const Instance *in, Bands *b, const int64_t *order,
                               int64_t order_count, double *predicted) {
    /* Where the first condition fails, as a share of the interval. */
    double limit = FOREVER;
#define NARROW(failing)                       \
    do {                                      \
        double at_ = (failing);               \
        if (at_ < limit) limit = at_;         \
        if (limit <= 0.0) return 0.0;         \
    } while (0)
    *predicted = FOREVER;
    for (int64_t step = 0; step < order_count; step++) {
        int64_t chosen = order[step];
        if (!b->alive[chosen]) return 0.0;
        /* Its price by the lower edge, convex in lambda: below the chord of its two ends.
         * Affordable by that edge wherever its shortfall (less twice the tolerance: clearly)
         * is below 0. */
        double ceiling0 = 0.0, ceiling1 = 0.0, slope = 0.0, spread0 = 0.0, spread1 = 0.0;
        double short0 = 0.0, short1 = 0.0;
        edge_shortfall(in, b, chosen, b->low0, b->low1, &short0, &short1);
        double clearly = 2.0 * tolerance_of(in, b, chosen);
        NARROW(holds_for(-short0 - clearly, -short1 - clearly));
        if (edge_price(in, b, chosen, b->low0, b->low1, 0.0, &ceiling0, &slope, &spread0) !=
                PRICED ||
            edge_price(in, b, chosen, b->low0, b->low1, 1.0, &ceiling1, &slope, &spread1) !=
                PRICED)
            return 0.0;
        double ceiling_spread = spread0 > spread1 ? spread0 : spread1;
        double chosen_rich = -1.0, chosen_until = 0.0; /* not looked at yet */
        /* Its price by the upper edge, from below: the tangent at 0, where the bands are
         * exact; in lambda, where the order would change first by the tangents at 0 of the
         * prices that raced it (a guess for the next proof). */
        double floor0 = 0.0, floor1 = 0.0, floor_spread = 0.0;
        if (tangent(in, b, chosen, 0.0, &floor0, &floor1, &floor_spread) != PRICED) return 0.0;
        for (int64_t c = 0; c < in->candidate_count; c++) {
            int64_t j = in->candidates[c];
            if (j == chosen || !b->alive[j]) continue;
            if (in->twins[chosen] >= 0 && in->twins[j] == in->twins[chosen]) {
                if (in->ranks[chosen] < in->ranks[j]) continue;
                return 0.0;
            }
            double above = stays_above(b, j, ceiling0, ceiling1,
                                       ceiling_spread + b->bound_spread[j], 0.0);
            int raced = above < limit;
            /* Closer lines where these do not clear it as far as the other conditions hold:
             * the tangent at 0 first, the one at 1 when still needed. Unaffordable at both
             * ends: out of the race for good. */
            for (double at = 0.0; above < limit && at <= 1.0; at += 1.0) {
                int kind = retangent(in, b, j, at);
                if (kind == UNSURE) return 0.0;
                if (kind == UNAFFORDABLE && at == 1.0) {
                    double short0 = 0.0, short1 = 0.0;
                    edge_shortfall(in, b, j, b->high0, b->high1, &short0, &short1);
                    if (short0 > 0.0 && short1 > 0.0) {
                        b->alive[j] = 0;
                        break;
                    }
                    return 0.0;
                }
                above = stays_above(b, j, ceiling0, ceiling1,
                                    ceiling_spread + b->bound_spread[j], 0.0);
            }
            if (!b->alive[j]) continue;
            if (above < limit) {
                /* Unaffordable by the upper edge (a line) from lambda 0 to where its wealth
                 * reaches the cost: nobody buys it there whatever its lines say. */
                double short0 = 0.0, short1 = 0.0;
                edge_shortfall(in, b, j, b->high0, b->high1, &short0, &short1);
                above = stays_above(b, j, ceiling0, ceiling1,
                                    ceiling_spread + b->bound_spread[j],
                                    holds_for(short0, short1));
            }
            if (above < limit) {
                /* Prices exactly cost / rich utility are ordered exactly, for as long as they
                 * are (equal shares of equal costs, say, tie at every start). */
                if (chosen_rich < 0.0) chosen_rich = exact_rich(in, b, chosen, &chosen_until);
                double rival_until = 0.0;
                double rival_rich = exact_rich(in, b, j, &rival_until);
                if (first_by_rich(in, chosen, chosen_rich, j, rival_rich) == chosen) {
                    NARROW(chosen_until < rival_until ? chosen_until : rival_until);
                    continue;
                }
            }
            NARROW(above);
            if (raced) {
                double first = stays_above(b, j, floor0, floor1, 0.0, 0.0);
                if (first < *predicted) *predicted = first;
            }
        }
        double scale = in->scales[chosen];
        floor0 *= scale, floor1 *= scale;
        double top0 = ceiling0 * scale, top1 = ceiling1 * scale;
        double tolerance = in->margin * b->start;
        for (int64_t e = in->starts[chosen]; e < in->starts[chosen + 1]; e++) {
            int64_t ballot = in->ballots[e];
            double utility = in->utilities[e];
            /* Least left: the lower edge less the highest payment, at least 0. With the
             * purchases so far in one order, more start money leaves more money at every
             * step, so what is left at lambda 0 is a lower bound at every lambda too: where
             * that line falls, its value at 0 is the better bound. */
            double least0 = b->low0[ballot] - top0 * utility;
            double least1 = b->low1[ballot] - top1 * utility;
            if (least0 > 0.0) {
                b->low0[ballot] = least0;
                b->low1[ballot] = least1 > least0 ? least1 : least0;
            } else {
                b->low0[ballot] = 0.0;
                b->low1[ballot] = 0.0;
            }
            /* Most left: the upper edge less the lowest payment, at least 0: max(0, line) is
             * convex, so the chord of its two ends lies above it. */
            double most0 = b->high0[ballot] - floor0 * utility;
            double most1 = b->high1[ballot] - floor1 * utility;
            b->high0[ballot] = most0 > 0.0 ? most0 : 0.0;
            b->high1[ballot] = most1 > 0.0 ? most1 : 0.0;
            /* Surely nothing left where that line is below 0 by the tolerance: from lambda 0
             * up to where it rises past it (and there before, from an earlier step). */
            double broke = most0 < -tolerance ? holds_for(-tolerance - most0, -tolerance - most1)
                                              : 0.0;
            if (broke > b->broke[ballot]) b->broke[ballot] = broke;
        }
        b->alive[chosen] = 0;
    }
    for (int64_t c = 0; c < in->candidate_count; c++) {
        int64_t j = in->candidates[c];
        if (!b->alive[j]) continue;
        double short0 = 0.0, short1 = 0.0;
        edge_shortfall(in, b, j, b->high0, b->high1, &short0, &short1);
        double unaffordable = holds_for(short0, short1);
        NARROW(unaffordable);
        if (unaffordable < *predicted) *predicted = unaffordable;
    }
#undef NARROW
    return limit;
}

/* Over what share of [low, high] every start money surely buys `order`: all of it when
 * above 1 (and then how far past it the conditions would hold, a guess), else [low, low +
 * share * (high - low)) without its end; 0 when none; -2 when out of memory. `predicted`
 * guesses where the order would change first. See FloatRuns.same_order_between for why. */
double stemmen_mes_same_order_between(const Instance *in, double low, double high,
                                      const int64_t *order, int64_t order_count,
                                      double *predicted) {
    Bands b;
    if (!bands_init(&b, in, low, high)) return -2.0;
    double share = band_keeps_order(in, &b, order, order_count, predicted);
    bands_free(&b);
    return share;
}

/* Importable as a module too, so that the build can be checked with a plain import. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mes_floats_c",
                                    "Equal Shares float runs (called through ctypes).", -1,
                                    NULL};

PyMODINIT_FUNC PyInit__mes_floats_c(void) { return PyModule_Create(&module); }
