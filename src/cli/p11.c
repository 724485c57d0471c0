#include <stdlib.h>
#include <unistd.h>

#include "cli/p11.h"

const char *cli_p11_module(const char *flag)
{
    if (flag != NULL && flag[0] != '\0')
        return flag;
    const char *env = getenv(CLI_P11_ENV_MODULE);
    if (env != NULL && env[0] != '\0')
        return env;
    return access(CLI_P11_DEFAULT_MODULE, F_OK) == 0 ? CLI_P11_DEFAULT_MODULE : NULL;
}
