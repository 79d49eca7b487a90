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
/* As many passes as it takes. */
#define FULLY INT64_MAX
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

/* (PRICED, payment per unit of utility, rich utility), (BOUNDED, a lower bound of the
 * payment) after `rounds` passes over the supporters without reaching it, UNAFFORDABLE or
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
 * the root (the function is concave), where the next pass starts. */
static int price(const Instance *in, const State *st, int64_t j, int64_t rounds,
                 double *payment_out, double *rich_out, double *spread_out) {
    int64_t first = in->starts[j], last = in->starts[j + 1];
    double cost = in->costs[j], margin = in->margin;
    /* Every sum here adds amounts no larger than the supporters' start money; its float
     * error is far below this (see _mes_floats.py), whatever cancels in it. */
    double tolerance = margin * (in->total_weight[j] * st->start + cost);
    double payment = cost / in->total_utility[j];
    double known = st->rho[j] * in->scales[j];
    if (known > payment) payment = known;
    for (int64_t round = 0; round < last - first + 2; round++) {
        double wealth = 0.0, paid_by_poor = 0.0, rich_utility = 0.0, lowest_rich = INFINITY;
        int poor_with_money = 0;
        for (int64_t e = first; e < last; e++) {
            int64_t ballot = in->ballots[e];
            double held = st->money[ballot], weight = in->weights[e];
            double utility = in->utilities[e];
            wealth += weight * held;
            if (held < payment * utility) {
                paid_by_poor += weight * held;
                poor_with_money |= !st->broke[ballot];
            } else {
                rich_utility += weight * utility;
                double per_utility = held * in->inverse_utilities[e];
                if (per_utility < lowest_rich) lowest_rich = per_utility;
            }
        }
        if (round == 0) {
            if (wealth < cost - tolerance) return UNAFFORDABLE;
            if (wealth <= cost + tolerance) return UNSURE;
        }
        if (rich_utility <= 0.0) return UNSURE;
        double following = (cost - paid_by_poor) / rich_utility;
        *spread_out = tolerance / rich_utility;
        if (following <= lowest_rich) {
            *payment_out = following;
            *rich_out = !poor_with_money && lowest_rich > following + margin * st->start
                            ? rich_utility
                            : 0.0;
            return PRICED;
        }
        payment = following;
        if (round + 1 >= rounds) {
            *payment_out = payment;
            return BOUNDED;
        }
    }
    return UNSURE;
}

/* Bring a project's price up to date (dirty no more), or drop it when unaffordable, or,
 * after `rounds` passes, raise its lower bound (still dirty); 0: unsure. */
static int reprice(const Instance *in, State *st, int64_t j, int64_t rounds) {
    double payment = 0.0, rich_utility = 0.0, spread = 0.0;
    int kind = price(in, st, j, rounds, &payment, &rich_utility, &spread);
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

/* Which of two projects MES buys first, by exact price and then rank, where their prices are
 * known exactly to be equal (twins) or known as cost / (rich * scale); else UNSURE. */
static int64_t first_of(const Instance *in, const State *st, int64_t one, int64_t other) {
    if (in->twins[one] >= 0 && in->twins[one] == in->twins[other])
        return in->ranks[one] < in->ranks[other] ? one : other;
    double rich_one = st->rich[one], rich_other = st->rich[other];
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

static int64_t run(const Instance *in, State *st, int64_t *bought, double *paid_rho,
                   double *paid_spread) {
    int64_t size = 0, count = 0;
    for (int64_t c = 0; c < in->candidate_count; c++) size = push(in, st, size, in->candidates[c]);
    while (size) {
        int64_t best = st->heap[0];
        size = pop(in, st, size);
        if (st->dirty[best]) {
            /* One pass at a time: a raised bound may let another project to the top. */
            if (!reprice(in, st, best, 1)) return UNSURE;
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
                if (!reprice(in, st, other, 1)) return UNSURE;
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
        bought[count] = chosen;
        paid_rho[count] = st->rho[chosen];
        paid_spread[count] = st->spread[chosen];
        count++;
        dirty_sharing(in, st, chosen);
    }
    return count;
}

/* One MES run with `start` money per unit of weight: the number of projects bought, written
 * in order into `bought` with their prices into `paid_rho`; UNSURE when a decision was too
 * close for floats; -2 when out of memory. */
int64_t stemmen_mes_run(const Instance *in, double start, int64_t *bought, double *paid_rho,
                        double *paid_spread) {
    State st;
    if (!state_init(&st, in, start)) return -2;
    int64_t count = run(in, &st, bought, paid_rho, paid_spread);
    state_free(&st);
    return count;
}

static int keeps_order(const Instance *in, State *st, const int64_t *order,
                       const double *order_rho, const double *order_spread, int64_t order_count,
                       double *reached_rho, double *reached_spread) {
    /* Here rho is a lower bound of each price at `start` and every later step. */
    for (int64_t step = 0; step < order_count; step++) {
        int64_t chosen = order[step];
        double ceiling = order_rho[step] + order_spread[step];
        for (int64_t c = 0; c < in->candidate_count; c++) {
            int64_t j = in->candidates[c];
            if (j == chosen || !st->alive[j] || st->rho[j] - st->spread[j] > ceiling) continue;
            if (in->twins[chosen] >= 0 && in->twins[j] == in->twins[chosen]) {
                if (in->ranks[chosen] < in->ranks[j]) continue;
                return 0;
            }
            /* Raise the bound a pass at a time until it clears the ceiling, or is the price
             * (no longer dirty) and does not. */
            while (st->alive[j] && st->rho[j] - st->spread[j] <= ceiling) {
                st->dirty[j] = 1;
                if (!reprice(in, st, j, 1)) return 0;
                if (st->alive[j] && !st->dirty[j] && st->rho[j] - st->spread[j] <= ceiling)
                    return 0;
            }
        }
        st->dirty[chosen] = 1;
        if (!reprice(in, st, chosen, FULLY)) return 0;
        if (!st->alive[chosen] || st->dirty[chosen]) return 0;
        reached_rho[step] = st->rho[chosen];
        reached_spread[step] = st->spread[chosen];
        pay(in, st, chosen, st->rho[chosen] * in->scales[chosen]);
        st->alive[chosen] = 0;
    }
    for (int64_t c = 0; c < in->candidate_count; c++) {
        int64_t j = in->candidates[c];
        if (!st->alive[j]) continue;
        if (!reprice(in, st, j, 1)) return 0;
        if (st->alive[j]) return 0;
    }
    return 1;
}

/* Whether every start money from that of a run that bought `order` (at prices `order_rho`)
 * up to `start` surely buys the same projects in the same order (1), or not surely (0); -2
 * when out of memory. On 1, `reached_rho` holds the prices at `start`. See
 * FloatRuns.same_order_up_to for why. */
int64_t stemmen_mes_same_order(const Instance *in, double start, const int64_t *order,
                               const double *order_rho, const double *order_spread,
                               int64_t order_count, double *reached_rho,
                               double *reached_spread) {
    State st;
    if (!state_init(&st, in, start)) return -2;
    int kept = keeps_order(in, &st, order, order_rho, order_spread, order_count, reached_rho,
                           reached_spread);
    state_free(&st);
    return kept;
}

/* Importable as a module too, so that the build can be checked with a plain import. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mes_floats_c",
                                    "Equal Shares float runs (called through ctypes).", -1,
                                    NULL};

PyMODINIT_FUNC PyInit__mes_floats_c(void) { return PyModule_Create(&module); }
