package jobrunner.mongodb;

import java.util.Comparator;
import java.util.List;

import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;
import io.netty.channel.Channel;

/** The in-memory backend with our index rules (see {@link PinnedUniqueIndex}, {@link OrderedSecondaryIndex}). */
final class MemoryBackendWithIndexes extends MemoryBackend {

    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new Database(databaseName, getCursorRegistry());
    }

    static final class Database extends MemoryDatabase {

        Database(String databaseName, CursorRegistry cursorRegistry) {
            super(databaseName, cursorRegistry);
        }

        @Override
        protected Index<Integer> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                         boolean sparse) {
            return new PinnedUniqueIndex<>(super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse), sparse,
                Comparator.naturalOrder());
        }

        @Override
        protected Index<Integer> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                            boolean sparse) {
            // A position is the document's slot in the collection's list: natural order.
            return new OrderedSecondaryIndex<>(indexName, keys, sparse, Comparator.naturalOrder());
        }

        @Override
        public Document handleCommand(Channel channel, String command, Document query, DatabaseResolver resolver,
                                      Oplog oplog) {
            if (command.equalsIgnoreCase("aggregate")) {
                clearLastStatus(channel);
                Document response = LeadingMatch.aggregate(this, query, resolver, oplog);
                if (response != null) {
                    return response;
                }
            }
            return super.handleCommand(channel, command, query, resolver, oplog);
        }
    }
}
