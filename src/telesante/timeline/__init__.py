"""One ordered history per patient, to which every act adds entries."""
