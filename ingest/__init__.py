"""Turn report files into sectioned, cited chunks in Chroma."""
