"""MongoDB connection, Beanie initialisation and indexes."""

from beanie import init_beanie
from beanie.odm.fields import IndexModelField
from pymongo import AsyncMongoClient, IndexModel

from jobrunner_api.documents import ALL_DOCUMENTS


async def connect(url: str, database: str) -> AsyncMongoClient:
    client: AsyncMongoClient = AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)
    await init_beanie(database=client[database], document_models=ALL_DOCUMENTS, skip_indexes=True)
    await ensure_indexes()
    return client


async def ensure_indexes() -> None:
    """Create each document's indexes one call at a time.

    Why: FerretDB v1 crashes the connection when one createIndexes call names several
    indexes that already exist; one index per call works on it and on MongoDB alike.
    """
    for document in ALL_DOCUMENTS:
        collection = document.get_pymongo_collection()
        for index in document.get_settings().indexes or []:
            model = index.index if isinstance(index, IndexModelField) else IndexModel(index)
            await collection.create_indexes([model])
