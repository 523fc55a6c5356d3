// kittyd entry point (being written: see issue 2).
int main() { return 0; }
