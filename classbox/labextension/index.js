// The box's two additions to JupyterLab. Built by scripts/build-labextension.sh
// into built/ (committed: the box and the teacher's laptop need no Node.js).
//
// Share a copy: in JupyterLab's file browser, right-click a file, "Share a copy".
// The student's own server (classbox/share_server.py) sends the file as it is
// now to the hub and answers with a short link; this shows it, with a button
// that copies it.
//
// On a phone, JupyterLab opens with its file list closed: open, it takes three
// quarters of the screen and leaves the notebook a column a few words wide.
import { ILabShell } from '@jupyterlab/application';
import { Clipboard, Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

const COMMAND = 'classbox:share-copy';
// Phones in portrait are 360 to 430 CSS pixels wide, tablets 768 or more.
const NARROW_SCREEN = '(max-width: 600px)';

function firstSelected(browser) {
  if (!browser) {
    return null;
  }
  for (const item of browser.selectedItems()) {
    return item;
  }
  return null;
}

function linkBody(url, days) {
  const body = document.createElement('div');
  body.className = 'classbox-share-dialog';
  const intro = document.createElement('p');
  intro.textContent =
    'Anyone logged in on this box who has this link can read this copy of your file ' +
    'and open one of their own. What you change later is not in it.';
  const field = document.createElement('input');
  field.type = 'text';
  field.readOnly = true;
  field.value = url;
  field.className = 'jp-mod-styled classbox-share-link';
  field.style.width = '100%';
  field.style.fontSize = '1.2em';
  field.addEventListener('focus', () => field.select());
  const after = document.createElement('p');
  after.textContent = `The link works for ${days} day${days === 1 ? '' : 's'}. `;
  const mine = document.createElement('a');
  mine.href = url.replace(/\/s\/[^/]+$/, '/hub/shares');
  mine.target = '_blank';
  mine.textContent = 'Your shared links';
  mine.style.textDecoration = 'underline';
  after.appendChild(mine);
  after.appendChild(document.createTextNode(' lists them: withdraw one there.'));
  body.append(intro, field, after);
  return new Widget({ node: body });
}

async function shareCopy(path) {
  const settings = ServerConnection.makeSettings();
  const response = await ServerConnection.makeRequest(
    URLExt.join(settings.baseUrl, 'classbox-share/share'),
    { method: 'POST', body: JSON.stringify({ path }) },
    settings
  );
  let answer = {};
  try {
    answer = await response.json();
  } catch (error) {
    answer = { message: `The box did not answer as expected (${response.status}).` };
  }
  if (!response.ok) {
    throw new Error(answer.message || `The box refused (${response.status}).`);
  }
  return answer;
}

const plugin = {
  id: '@classbox/share:plugin',
  description: 'Share a copy of a file by a short link.',
  autoStart: true,
  requires: [IFileBrowserFactory],
  activate: (app, factory) => {
    app.commands.addCommand(COMMAND, {
      label: 'Share a copy',
      caption: 'A short link that gives anyone on this box a copy of this file as it is now',
      isVisible: () => {
        const item = firstSelected(factory.tracker.currentWidget);
        return !!item && item.type !== 'directory';
      },
      execute: async () => {
        const item = firstSelected(factory.tracker.currentWidget);
        if (!item) {
          return;
        }
        let answer;
        try {
          answer = await shareCopy(item.path);
        } catch (error) {
          await showErrorMessage(`Share a copy of ${item.name}`, error.message);
          return;
        }
        const url = new URL(answer.link, window.location.href).href;
        const result = await showDialog({
          title: `Share a copy of ${item.name}`,
          body: linkBody(url, answer.days),
          buttons: [Dialog.cancelButton({ label: 'Close' }), Dialog.okButton({ label: 'Copy link' })]
        });
        if (result.button.accept) {
          Clipboard.copyToSystem(url);
        }
      }
    });
    app.contextMenu.addItem({
      command: COMMAND,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 11
    });
  }
};

const narrowScreen = {
  id: '@classbox/share:narrow-screen',
  description: "On a phone, JupyterLab opens with its side panel closed.",
  autoStart: true,
  optional: [ILabShell], // Notebook 7 has no side panels
  activate: (app, labShell) => {
    if (!labShell || !window.matchMedia(NARROW_SCREEN).matches) {
      return;
    }
    // After the layout the workspace restores, which may have the panel open.
    void app.restored.then(() => labShell.collapseLeft());
  }
};

export default [plugin, narrowScreen];
