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
    """Create each document's indexes (a no-op for those that exist)."""
    for document in ALL_DOCUMENTS:
        models = [index.index if isinstance(index, IndexModelField) else IndexModel(index)
                  for index in document.get_settings().indexes or []]
        if models:
            await document.get_pymongo_collection().create_indexes(models)
