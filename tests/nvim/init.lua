-- Drives `tenantc lsp` from a real Neovim (0.7+, headless) for tests/nvim.rs:
-- starts the server with vim.lsp.start_client, opens TENANTC_FILE, waits for
-- diagnostics, asks for hover, definition, completion and rename, writes
-- what came back to TENANTC_OUT as JSON and quits. Every wait is bounded.
local bin = os.getenv('TENANTC_BIN')
local root = os.getenv('TENANTC_ROOT')
local file = os.getenv('TENANTC_FILE')
local out = os.getenv('TENANTC_OUT')
local result = { errors = {} }

-- Filetype detection, as the README tells Neovim 0.7 users.
vim.cmd([[filetype on]])
vim.cmd([[autocmd BufRead,BufNewFile *.tenant setfiletype tenant]])

local function write_result()
  local f = io.open(out, 'w')
  f:write(vim.fn.json_encode(result))
  f:close()
end

-- Puts the cursor on the first `needle` (plus `delta` characters) and
-- returns the request parameters for that position.
local function at(needle, delta)
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local line = vim.fn.search(vim.fn.escape(needle, '.[]\\'), 'cW')
  if line == 0 then
    error('not found: ' .. needle)
  end
  local col = vim.fn.col('.') - 1 + (delta or 0)
  vim.api.nvim_win_set_cursor(0, { line, col })
  return vim.lsp.util.make_position_params()
end

local function request(method, params)
  local responses = vim.lsp.buf_request_sync(0, method, params, 10000)
  if not responses then
    table.insert(result.errors, method .. ': no response')
    return nil
  end
  for _, r in pairs(responses) do
    if r.err then
      table.insert(result.errors, method .. ': ' .. vim.inspect(r.err))
    end
    return r.result
  end
end

local function run()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  result.filetype = vim.bo[buf].filetype
  local id = vim.lsp.start_client({
    name = 'tenantc',
    cmd = { bin, 'lsp' },
    root_dir = root,
  })
  result.client = id ~= nil
  vim.lsp.buf_attach_client(buf, id)

  result.diagnostics_arrived = vim.wait(20000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 50)
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = (d.user_data or {}).lsp or {}
    table.insert(result.diagnostics, {
      code = d.code or lsp.code,
      message = d.message,
      source = d.source,
      line = d.lnum,
      col = d.col,
    })
  end

  local hover = request('textDocument/hover', at('NP8.MVSNFS8', 5))
  result.hover = hover and hover.contents and hover.contents.value or vim.NIL

  local def = request('textDocument/definition', at('= ocp1', 3))
  if def and def[1] then
    def = def[1]
  end
  if def and def.range then
    result.definition = { uri = def.uri, line = def.range.start.line, character = def.range.start.character }
  end

  -- Completion of a reference on a new line typed into the proxy block.
  local line = vim.fn.search('cluster_ip', 'w')
  vim.api.nvim_buf_set_lines(buf, line, line, false, { '      trust = ' })
  vim.api.nvim_win_set_cursor(0, { line + 1, 14 })
  local completion = request('textDocument/completion', vim.lsp.util.make_position_params())
  result.completion = {}
  local items = completion and (completion.items or completion) or {}
  for _, item in ipairs(items) do
    table.insert(result.completion, item.label)
  end
  vim.api.nvim_buf_set_lines(buf, line, line + 1, false, {})

  local params = at('fios {', 1)
  params.newName = 'fios_prod'
  local edit = request('textDocument/rename', params)
  result.rename_edits = 0
  if edit and edit.changes then
    for _, edits in pairs(edit.changes) do
      result.rename_edits = result.rename_edits + #edits
    end
  end

  vim.lsp.stop_client(id)
  vim.wait(5000, function()
    return vim.lsp.get_client_by_id(id) == nil
  end, 50)
end

vim.api.nvim_create_autocmd('VimEnter', {
  nested = true,
  callback = function()
    local ok, err = pcall(run)
    if not ok then
      table.insert(result.errors, tostring(err))
    end
    write_result()
    vim.cmd('qall!')
  end,
})
