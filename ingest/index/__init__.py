"""What the writer and every reader share: the chunk schema, the store, the manifest, embeddings, BM25."""
