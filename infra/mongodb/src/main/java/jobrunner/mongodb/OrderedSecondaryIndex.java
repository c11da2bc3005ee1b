package jobrunner.mongodb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.Document;

/**
 * A non-unique index kept in memory, for both backends (H2's positions are the documents'
 * {@code _id}s, the memory backend's are list slots): an ordered map from each key to the
 * positions of the documents that have it, one key per array element as in the library's
 * {@link Index#getKeyValues}.
 *
 * <p>It answers a query that pins a non-empty prefix of its fields to plain values and,
 * optionally, puts a range ({@code $gt/$gte/$lt/$lte}) or an {@code $in} of plain values on the
 * next field. It returns a superset of the matching documents (the server applies the whole
 * filter to them afterwards), in the collection's natural order, as a collection scan would.
 * A range stays inside its bound's type bracket, as the server's matcher does:
 * {@code {lease_expires_at: {$lt: <date>}}} reads the dates only, not the documents without the
 * field.
 *
 * <p>Of several secondary indexes that could answer, only the one pinning the most fields does
 * (then a range or {@code $in} on the next, then the first created), as MongoDB's planner would
 * prefer it: the server asks its indexes in the order they were created and takes the first
 * that says yes.
 *
 * <p>Rebuilt from the documents whenever it is opened (the H2 backend does so on every start).
 */
final class OrderedSecondaryIndex<P> extends Index<P> {

    private static final double EXACT_LIMIT = 0x1p31;

    private final NavigableMap<KeyValue, Set<P>> entries = new TreeMap<>(KeyOrder.INSTANCE);
    private final Map<P, Set<KeyValue>> keysByPosition = new HashMap<>();
    private final Map<Object, P> positionsById = new HashMap<>();
    private final Comparator<? super P> naturalOrder;
    private final boolean usable;
    /** Each key's path, split once (the library splits it with a regular expression per read). */
    private final String[][] paths;
    /** The document the last check was made for, and its keys: the add or update that follows
     * takes them instead of reading the same document again. */
    private Document checked;
    private Set<KeyValue> checkedKeys;
    private volatile boolean multikey;
    /** Its collection, known from the first document added: to see the other indexes. */
    private volatile MongoCollection<P> collection;

    OrderedSecondaryIndex(String name, List<IndexKey> keys, boolean sparse, Comparator<? super P> naturalOrder) {
        super(name, keys, sparse);
        this.naturalOrder = naturalOrder;
        this.usable = keys.stream().map(IndexKey::getKey).noneMatch(QueryTerms::hasArrayPosition);
        this.paths = keys.stream().map(key -> key.getKey().split("\\.", -1)).toArray(String[][]::new);
    }

    // --- keeping it current ------------------------------------------------------------------

    @Override
    public synchronized void checkAdd(Document document, MongoCollection<P> collection) {
        check(document); // refuses parallel arrays in a compound index, as MongoDB does
    }

    @Override
    public synchronized void add(Document document, P position, MongoCollection<P> collection) {
        if (collection != null) {
            this.collection = collection;
        }
        Set<KeyValue> keys = checkedKeysOf(document);
        if (keys != null) {
            link(idOf(document), position, keys);
        }
    }

    @Override
    public synchronized P remove(Document document) {
        P position = positionsById.remove(idOf(document));
        if (position != null) {
            unlink(position);
        }
        return position;
    }

    @Override
    public synchronized void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
        check(newDocument);
    }

    @Override
    public synchronized void updateInPlace(Document oldDocument, Document newDocument, P position,
                                           MongoCollection<P> collection) {
        Set<KeyValue> newKeys = checkedKeysOf(newDocument);
        if (Objects.equals(keysByPosition.get(position), newKeys)) {
            return;
        }
        unlink(position);
        if (newKeys != null) {
            link(idOf(newDocument), position, newKeys); // the same _id: MongoDB keeps it
        } else {
            positionsById.remove(idOf(oldDocument));
        }
    }

    @Override
    public synchronized void drop() {
        entries.clear();
        keysByPosition.clear();
        positionsById.clear();
    }

    private void check(Document document) {
        checkedKeys = keysOf(document);
        checked = document; // after keysOf: a document it refuses is not remembered
    }

    /** The keys of a document checked just before (the library checks every index, then adds
     * to or updates every index, the document unchanged in between), or read now. */
    private Set<KeyValue> checkedKeysOf(Document document) {
        Set<KeyValue> keys = document == checked ? checkedKeys : keysOf(document);
        checked = null;
        checkedKeys = null;
        return keys;
    }

    /** The document's keys, or null when a sparse index leaves it out. */
    Set<KeyValue> keysOf(Document document) {
        KeyValue plain = plainKey(document);
        if (plain != null) {
            return isSparse() && plain.stream().allMatch(Objects::isNull) ? null : Set.of(plain);
        }
        if (isSparse() && hasNoValue(document)) {
            return null;
        }
        return getKeyValues(document);
    }

    /**
     * The document's one key when no array and no subdocument is among its values (nor on the
     * way to them), as {@link Index#getKeyValues} makes it, or null for that method to make.
     *
     * <p>Why not that method alone: it splits each path with a regular expression and collects
     * with streams, for every index of every document inserted or updated; for a job (17
     * indexes) that was a fifth of the database's CPU. Strings are interned: the keys of an
     * index share their leading values (a tenant, a status), so that the map's comparisons of
     * equal values end at their identity instead of reading them through.
     */
    private KeyValue plainKey(Document document) {
        Object[] values = new Object[paths.length];
        for (int i = 0; i < paths.length; i++) {
            Object value = document;
            for (String part : paths[i]) {
                if (value instanceof Document) {
                    value = ((Document) value).getOrMissing(part);
                } else if (value instanceof Collection) {
                    return null;
                } else {
                    value = Missing.getInstance(); // as the library: nothing below a value
                }
            }
            if (value instanceof Collection || value instanceof Map) {
                return null;
            }
            values[i] = normalized(value);
        }
        return new KeyValue(values);
    }

    /** {@code Utils.normalizeValue} (not public) for a value that is no document or list, and a
     * string interned (the library keeps its own: equal either way, see {@link #plainKey}). */
    private static Object normalized(Object value) {
        if (Missing.isNullOrMissing(value)) {
            return null;
        }
        if (value instanceof String) {
            return ((String) value).intern();
        }
        if (value instanceof Long && (Long) value != (long) ((Long) value).doubleValue()) {
            return value;
        }
        if (value instanceof Number) {
            double number = ((Number) value).doubleValue();
            return Double.valueOf(number == -0.0 ? 0.0 : number);
        }
        return value;
    }

    private boolean hasNoValue(Document document) {
        return keys().stream().noneMatch(key -> hasValue(Utils.getSubdocumentValueCollectionAware(document, key)));
    }

    private static boolean hasValue(Object value) {
        if (value instanceof Collection) {
            return ((Collection<?>) value).stream().anyMatch(OrderedSecondaryIndex::hasValue);
        }
        return !Missing.isNullOrMissing(value);
    }

    private static Object idOf(Document document) {
        return QueryTerms.normalize(document.get("_id"));
    }

    private void link(Object id, P position, Set<KeyValue> keys) {
        positionsById.put(id, position);
        keysByPosition.put(position, keys);
        for (KeyValue key : keys) {
            entries.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(position);
        }
        multikey |= keys.size() > 1;
    }

    private void unlink(P position) {
        Set<KeyValue> keys = keysByPosition.remove(position);
        if (keys == null) {
            return;
        }
        for (KeyValue key : keys) {
            // One walk down the tree; a key left without documents goes.
            entries.computeIfPresent(key, (k, positions) -> positions.remove(position) && positions.isEmpty()
                ? null : positions);
        }
    }

    @Override
    public synchronized P getPosition(Document document) {
        return positionsById.get(idOf(document));
    }

    @Override
    public synchronized long getCount() {
        return keysByPosition.size();
    }

    @Override
    public long getDataSize() {
        return getCount();
    }

    // --- answering queries -------------------------------------------------------------------

    @Override
    public boolean canHandle(Document query) {
        Plan plan = plan(query);
        return plan != null && isBestFor(query, plan.score());
    }

    /** No other secondary index of the collection pins more, nor as much and was created first. */
    private boolean isBestFor(Document query, int score) {
        MongoCollection<P> known = collection;
        if (known == null) {
            return true;
        }
        boolean before = true;
        for (Index<P> index : List.copyOf(known.getIndexes())) {
            if (index == this) {
                before = false;
            } else if (index instanceof OrderedSecondaryIndex) {
                Plan other = ((OrderedSecondaryIndex<P>) index).plan(query);
                if (other != null && (other.score() > score || (before && other.score() == score))) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public synchronized Iterable<P> getPositions(Document query) {
        Plan plan = plan(query);
        if (plan == null) {
            throw new IllegalStateException(this + " cannot answer " + query);
        }
        Set<P> found = new LinkedHashSet<>();
        if (plan.in != null) {
            for (Object value : plan.in) {
                List<Object> prefix = new ArrayList<>(plan.prefix);
                prefix.add(value);
                collectPrefix(prefix, found);
            }
        } else if (plan.hasRange()) {
            collectRange(plan, found);
        } else {
            collectPrefix(plan.prefix, found);
        }
        List<P> positions = new ArrayList<>(found);
        if (naturalOrder != null) {
            positions.sort(naturalOrder);
        }
        return positions;
    }

    /** What the index can do for a query, or null. */
    Plan plan(Document query) {
        if (!usable) {
            return null;
        }
        List<Object> prefix = new ArrayList<>();
        for (String key : keys()) {
            if (!query.containsKey(key)) {
                break;
            }
            Object term = query.get(key);
            Object pinned = QueryTerms.pinnedValue(term, false);
            if (pinned != QueryTerms.NONE) {
                prefix.add(QueryTerms.normalize(pinned));
                continue;
            }
            Plan next = Plan.onNextField(prefix, term, multikey);
            if (next != null) {
                return next;
            }
            break;
        }
        return prefix.isEmpty() ? null : new Plan(prefix, null, null, true, null, true);
    }

    private void collectPrefix(List<Object> prefix, Set<P> found) {
        KeyValue from = probe(prefix, KeyOrder.LOW);
        KeyValue to = probe(prefix, KeyOrder.HIGH);
        for (Set<P> positions : entries.subMap(from, true, to, true).values()) {
            found.addAll(positions);
        }
    }

    private void collectRange(Plan plan, Set<P> found) {
        int field = plan.prefix.size();
        Object bound = plan.lower != null ? plan.lower : plan.upper;
        NavigableMap<KeyValue, Set<P>> view;
        if (plan.lower != null && plan.upper != null) {
            KeyValue from = lowerProbe(plan);
            KeyValue to = upperProbe(plan);
            if (KeyOrder.INSTANCE.compare(from, to) > 0) {
                return; // {$gt: 10, $lt: 5}
            }
            view = entries.subMap(from, plan.lowerInclusive, to, plan.upperInclusive);
        } else if (plan.lower != null) {
            view = entries.tailMap(lowerProbe(plan), plan.lowerInclusive);
        } else {
            view = entries.headMap(upperProbe(plan), plan.upperInclusive).descendingMap();
        }
        // Walk from the bound away from it until the prefix or the type bracket ends.
        for (Map.Entry<KeyValue, Set<P>> entry : view.entrySet()) {
            KeyValue key = entry.getKey();
            if (!hasPrefix(key, plan.prefix)) {
                break;
            }
            Object value = key.get(field);
            if (KeyOrder.typeOrder(value) != KeyOrder.typeOrder(bound)) {
                break;
            }
            if (Plan.sameBracket(value, bound)) {
                found.addAll(entry.getValue());
            }
        }
    }

    private KeyValue lowerProbe(Plan plan) {
        List<Object> values = new ArrayList<>(plan.prefix);
        values.add(plan.lower);
        return probe(values, plan.lowerInclusive ? KeyOrder.LOW : KeyOrder.HIGH);
    }

    private KeyValue upperProbe(Plan plan) {
        List<Object> values = new ArrayList<>(plan.prefix);
        values.add(plan.upper);
        return probe(values, plan.upperInclusive ? KeyOrder.HIGH : KeyOrder.LOW);
    }

    /** {@code values} padded to the index's width with {@code padding}. */
    private KeyValue probe(List<Object> values, Object padding) {
        List<Object> key = new ArrayList<>(values);
        while (key.size() < getKeys().size()) {
            key.add(padding);
        }
        return new KeyValue(key);
    }

    private static boolean hasPrefix(KeyValue key, List<Object> prefix) {
        for (int i = 0; i < prefix.size(); i++) {
            if (KeyOrder.compareValues(key.get(i), prefix.get(i)) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Equality on a prefix of the fields, then maybe an {@code $in} or a range on the next. */
    static final class Plan {
        final List<Object> prefix;
        final List<Object> in;
        final Object lower;
        final boolean lowerInclusive;
        final Object upper;
        final boolean upperInclusive;

        Plan(List<Object> prefix, List<Object> in, Object lower, boolean lowerInclusive, Object upper,
             boolean upperInclusive) {
            this.prefix = prefix;
            this.in = in;
            this.lower = lower;
            this.lowerInclusive = lowerInclusive;
            this.upper = upper;
            this.upperInclusive = upperInclusive;
        }

        boolean hasRange() {
            return lower != null || upper != null;
        }

        /** How selective the plan looks: fields pinned, then a range or $in on the next one. */
        int score() {
            return 2 * prefix.size() + (in != null || hasRange() ? 1 : 0);
        }

        /**
         * An {@code $in} or a range in an operator document, or null. Other operators beside them
         * only narrow the match further, so they are left to the filter.
         */
        static Plan onNextField(List<Object> prefix, Object term, boolean multikey) {
            if (!(term instanceof Document) || !QueryTerms.hasOperatorKey((Document) term)) {
                return null;
            }
            Document operators = (Document) term;
            if (operators.containsKey("$in")) {
                if (!(operators.get("$in") instanceof Collection)) {
                    return null;
                }
                List<Object> values = new ArrayList<>();
                for (Object value : (Collection<?>) operators.get("$in")) {
                    Object pinned = QueryTerms.pinnedValue(value, false);
                    if (pinned == QueryTerms.NONE) {
                        return null; // null, a regex or an array in $in: left to a scan
                    }
                    values.add(QueryTerms.normalize(pinned));
                }
                return new Plan(prefix, values, null, true, null, true);
            }
            Object lower = bound(operators, "$gte", "$gt");
            Object upper = bound(operators, "$lte", "$lt");
            if (lower == QueryTerms.NONE || upper == QueryTerms.NONE || (lower == null && upper == null)) {
                return null;
            }
            boolean lowerInclusive = !operators.containsKey("$gt") || operators.containsKey("$gte");
            boolean upperInclusive = !operators.containsKey("$lt") || operators.containsKey("$lte");
            if (lower != null && upper != null && (multikey || !sameBracket(lower, upper))) {
                // One bound only: on arrays, MongoDB lets different elements meet each bound.
                upper = null;
            }
            if (lower instanceof Number && !exactlyComparable((Number) lower)) {
                return wholeNumberBracket(prefix);
            }
            if (upper instanceof Number && !exactlyComparable((Number) upper)) {
                return wholeNumberBracket(prefix);
            }
            return new Plan(prefix, null, lower, lowerInclusive, upper, upperInclusive);
        }

        /** The bound of one side: null when absent, NONE when not a plain value. */
        private static Object bound(Document operators, String inclusive, String exclusive) {
            String operator = operators.containsKey(inclusive) ? inclusive : exclusive;
            if (!operators.containsKey(operator)) {
                return null;
            }
            Object pinned = QueryTerms.pinnedValue(operators.get(operator), false);
            return pinned == QueryTerms.NONE ? QueryTerms.NONE : QueryTerms.normalize(pinned);
        }

        /**
         * The library compares a number outside the int range with others by their long parts
         * (and NaN as 0 then): for such bounds the whole numeric bracket is read.
         */
        private static boolean exactlyComparable(Number bound) {
            double value = bound.doubleValue();
            return bound instanceof Double && !Double.isNaN(value) && Math.abs(value) < EXACT_LIMIT;
        }

        private static Plan wholeNumberBracket(List<Object> prefix) {
            return new Plan(prefix, null, Double.NEGATIVE_INFINITY, true, null, true);
        }

        /** The server's matcher compares only numbers with numbers and otherwise equal classes. */
        static boolean sameBracket(Object value, Object bound) {
            if (value instanceof Number && bound instanceof Number) {
                return true;
            }
            return value != null && bound != null && value.getClass().equals(bound.getClass());
        }

        @Override
        public String toString() {
            return "Plan" + Arrays.asList(prefix, in, lower, lowerInclusive, upper, upperInclusive);
        }
    }
}
