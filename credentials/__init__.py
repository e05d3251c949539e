"""What a password is and how it is kept, with no knowledge of students: the policy and its
word list, Fernet encryption at rest, the temporary-password hasher and the recipe that makes
a student's credentials."""
