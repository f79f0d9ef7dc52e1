#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) { return cordon::cli::Run(argc, argv, std::cin, std::cout, std::cerr); }
