/* The program without sealpool: start-up only. */
int main(void) { return 0; }
