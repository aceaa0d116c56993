/* args.c — succeeds only if its arguments arrived as `a;b` and `c`: an
 * argument's own semicolon must survive ferry_add_test. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "a;b") != 0 || strcmp(argv[2], "c") != 0) {
        printf("args: got %d argument(s):", argc - 1);
        for (int i = 1; i < argc; i++)
            printf(" [%s]", argv[i]);
        printf("\n");
        return 1;
    }
    puts("args: ok");
    return 0;
}
