"""Civil language and forbidden phrases (文明用语 / 禁忌用语): the checker and where it is used."""
