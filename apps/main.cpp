// promptpack: the one CLI. Parses the command line and runs the chosen subcommand.
#include "commands.hpp"
#include "text/terminal_text.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  using namespace promptpack::cli;
  CLI::App app{"promptpack: send prompts to custom LLM endpoints, many prompts per request"};
  app.require_subcommand(1);
  app.footer("Run `promptpack <command> --help` for the options of each command.");
  int exit_status = exit_ok;
  add_serve_command(app, exit_status);
  add_complete_command(app, exit_status);
  add_run_command(app, exit_status);
  add_bench_command(app, exit_status);
  add_gateway_command(app, exit_status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  } catch (const std::exception& e) {
    // What went wrong may quote a file or an endpoint: printed escaped, it cannot drive the
    // terminal.
    std::cerr << "promptpack: " << promptpack::detail::escape_for_terminal(e.what()) << "\n";
    return exit_usage;
  }
  return exit_status;
}
