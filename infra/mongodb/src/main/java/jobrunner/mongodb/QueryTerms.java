package jobrunner.mongodb;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.regex.Pattern;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;

/** What one term of a query filter says about a field, as the index rules need it. */
final class QueryTerms {

    /** "This term does not pin the field to one value." */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "NONE";
        }
    };

    private QueryTerms() {
    }

    /**
     * The value a term pins its field to, or {@link #NONE}: a plain value ({@code {f: v}} or
     * {@code {f: {$eq: v}}}) that is not null, not an array, not a regular expression, not
     * MinKey/MaxKey and not an operator document. An embedded document without any operator
     * counts only when {@code allowDocuments} (the stock unique index looks those up by value).
     */
    static Object pinnedValue(Object term, boolean allowDocuments) {
        if (term == null || term instanceof Missing || term instanceof Collection
            || term instanceof BsonRegularExpression || term instanceof Pattern
            || term instanceof MinKey || term instanceof MaxKey) {
            return NONE;
        }
        if (term instanceof Document) {
            Document document = (Document) term;
            if (hasOperatorKey(document)) {
                if (document.size() == 1 && document.containsKey("$eq")) {
                    return pinnedValue(document.get("$eq"), false);
                }
                return NONE;
            }
            return allowDocuments && !containsQueryExpression(document) ? document : NONE;
        }
        return term;
    }

    static boolean hasOperatorKey(Document document) {
        return document.keySet().stream().anyMatch(key -> key.startsWith("$"));
    }

    /** An operator at any depth ({@code {a: {$gt: 1}}} as a "value" is a query). */
    static boolean containsQueryExpression(Object value) {
        if (!(value instanceof Map)) {
            return false;
        }
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
            if (entry.getKey().toString().startsWith("$") || containsQueryExpression(entry.getValue())) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when a path has a numeric part ({@code attempts.1.status}): the library's key
     * extraction does not follow array positions the way its matcher does, so no index rule of
     * ours answers for such a key.
     */
    static boolean hasArrayPosition(String key) {
        return Arrays.stream(key.split("\\.")).anyMatch(part -> !part.isEmpty() && part.chars().allMatch(Character::isDigit));
    }

    /** A value as the library stores it in index keys (numbers as doubles, -0.0 as 0.0, ...). */
    static Object normalize(Object value) {
        return new KeyValue(Arrays.asList(value)).normalized().get(0);
    }
}
